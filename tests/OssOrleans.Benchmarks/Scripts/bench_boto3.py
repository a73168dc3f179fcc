# The boto3 peer of the gateway benchmark, as a user would write it; timed from after the imports (interpreter start
# is not the tool's speed). Prints "seconds S bytes B".
#   big  ENDPOINT BUCKET KEY OUT      download_file with 16 threads in 8 MiB ranges
#   many ENDPOINT BUCKET PREFIX COUNT get_object of PREFIX00000.bin ... with 64 threads
import sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from concurrent.futures import ThreadPoolExecutor

mode, endpoint, bucket = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench-secret",
                  config=Config(max_pool_connections=64, s3={"addressing_style": "path"}))
start = time.perf_counter()
if mode == "big":
    key, out = sys.argv[4:6]
    s3.download_file(bucket, key, out, Config=TransferConfig(max_concurrency=16, multipart_chunksize=8 << 20, multipart_threshold=8 << 20))
    import os
    total = os.path.getsize(out)
else:
    prefix, count = sys.argv[4], int(sys.argv[5])
    def get(i):
        return len(s3.get_object(Bucket=bucket, Key=f"{prefix}{i:05d}.bin")["Body"].read())
    with ThreadPoolExecutor(max_workers=64) as pool:
        total = sum(pool.map(get, range(count)))
print(f"seconds {time.perf_counter() - start:.4f} bytes {total}")
