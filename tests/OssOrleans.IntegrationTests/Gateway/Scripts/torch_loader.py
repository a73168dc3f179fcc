# The PyTorch side of PyTorchGatewayTests: a map-style dataset whose samples are objects read through the gateway with
# boto3, loaded by torch's DataLoader with 4 worker processes (each makes its own client), for two epochs. Every sample
# is checked against the manifest's SHA-256. Prints one JSON line.
import hashlib, json, sys
import boto3, torch
from torch.utils.data import DataLoader, Dataset

endpoint, bucket, manifest_path = sys.argv[1:4]
with open(manifest_path) as f:
    manifest = [line.rstrip("\n").split("\t") for line in f if line.strip()]

class ObjectDataset(Dataset):
    def __init__(self, items):
        self.items = items
        self.s3 = None

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        if self.s3 is None:  # one client per worker process, made in the worker
            self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        key, _ = self.items[index]
        data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return index, torch.frombuffer(bytearray(data), dtype=torch.uint8)

def collate(batch):
    return batch

loader = DataLoader(ObjectDataset(manifest), batch_size=8, shuffle=True, num_workers=4, collate_fn=collate,
                    generator=torch.Generator().manual_seed(7))
epochs = []
for epoch in range(2):
    seen, bad, nbytes = set(), [], 0
    for batch in loader:
        for index, tensor in batch:
            data = tensor.numpy().tobytes()
            nbytes += len(data)
            if hashlib.sha256(data).hexdigest() != manifest[index][1]:
                bad.append(manifest[index][0])
            seen.add(index)
    epochs.append({"samples": len(seen), "bad": bad, "bytes": nbytes})
print(json.dumps({"torch": torch.__version__, "workers": loader.num_workers, "epochs": epochs}))
