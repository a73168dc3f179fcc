# Saves a small model's state dict (save PATH), or loads one and prints a fingerprint of its weights (load PATH): the
# model file of S3fsGatewayTests, loaded by torch from the s3fs mount.
import json, sys
import torch

step, path = sys.argv[1:3]
if step == "save":
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 64))
    torch.save(model.state_dict(), path)
    state = model.state_dict()
else:
    state = torch.load(path)
print(json.dumps({"tensors": len(state), "sum": round(float(sum(t.double().sum() for t in state.values())), 6),
                  "shapes": [list(t.shape) for t in state.values()]}))
