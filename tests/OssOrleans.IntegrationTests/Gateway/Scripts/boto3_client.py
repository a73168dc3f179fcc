# The boto3 side of Boto3GatewayTests: one step per run, as a user's script would do it, with boto3's own transfer
# manager for the large file. Prints one JSON line.
import json, os, sys
import boto3, botocore
from boto3.s3.transfer import TransferConfig

endpoint, bucket, work, step = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
multipart = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20, max_concurrency=4)
out = {"boto3": boto3.__version__, "botocore": botocore.__version__}

if step == "upload":
    with open(os.path.join(work, "small.bin"), "rb") as f:
        s3.put_object(Bucket=bucket, Key="boto3/small.bin", Body=f.read())
    s3.upload_file(os.path.join(work, "large.bin"), bucket, "boto3/large.bin", Config=multipart)
    out["large_etag"] = s3.head_object(Bucket=bucket, Key="boto3/large.bin")["ETag"]
elif step == "download":
    s3.download_file(bucket, "boto3/small.bin", os.path.join(work, "small.back"))
    s3.download_file(bucket, "boto3/large.bin", os.path.join(work, "large.back"), Config=multipart)
    with open(os.path.join(work, "range.back"), "wb") as f:
        f.write(s3.get_object(Bucket=bucket, Key="boto3/large.bin", Range="bytes=1000-99999")["Body"].read())
    with open(os.path.join(work, "suffix.back"), "wb") as f:
        f.write(s3.get_object(Bucket=bucket, Key="boto3/large.bin", Range="bytes=-5000")["Body"].read())
elif step == "list":
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="listing/", PaginationConfig={"PageSize": 100})
    out["recursive"], out["pages"] = [], 0
    for page in pages:
        out["pages"] += 1
        out["recursive"] += [o["Key"] for o in page.get("Contents", [])]
    level = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="listing/", Delimiter="/", PaginationConfig={"PageSize": 2}):
        level += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    out["level"] = level
elif step == "delete":
    s3.delete_object(Bucket=bucket, Key="boto3/small.bin")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "boto3/large.bin"}]})
    out["deleted"] = [d["Key"] for d in result.get("Deleted", [])]
    out["left"] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="boto3/").get("Contents", [])]
print(json.dumps(out))
