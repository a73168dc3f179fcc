using OssOrleans.Gateway.Protocol;
using static OssOrleans.UnitTests.Gateway.GatewayRequests;

namespace OssOrleans.UnitTests.Gateway;

public class S3RequestParsingTests
{
    // ---- operations ----

    private static (bool Ok, S3Operation Operation, S3Error? Error) Classify(string method, string rawTarget, params (string, string)[] headers)
    {
        var head = Head(method, rawTarget, headers);
        Assert.True(new S3AddressResolver([]).TryResolve(head, out var target, out var resolveError), $"{resolveError}");
        bool ok = S3OperationClassifier.TryClassify(head, target, out var operation, out var error);
        return (ok, operation, error);
    }

    [Theory]
    [InlineData("GET", "/", "ListBuckets")]
    [InlineData("GET", "/bkt", "ListObjects")]
    [InlineData("GET", "/bkt?prefix=a&delimiter=%2F", "ListObjects")]
    [InlineData("GET", "/bkt?list-type=2", "ListObjectsV2")]
    [InlineData("GET", "/bkt/?list-type=2&encoding-type=url&x-id=ListObjectsV2", "ListObjectsV2")]
    [InlineData("GET", "/bkt?location", "GetBucketLocation")]
    [InlineData("GET", "/bkt?uploads", "ListMultipartUploads")]
    [InlineData("HEAD", "/bkt", "HeadBucket")]
    [InlineData("PUT", "/bkt", "CreateBucket")]
    [InlineData("DELETE", "/bkt", "DeleteBucket")]
    [InlineData("POST", "/bkt?delete", "DeleteObjects")]
    [InlineData("POST", "/bkt?delete=", "DeleteObjects")]
    [InlineData("GET", "/bkt/k", "GetObject")]
    [InlineData("GET", "/bkt/k?x-id=GetObject", "GetObject")]
    [InlineData("GET", "/bkt/k?response-content-type=text%2Fplain", "GetObject")]
    [InlineData("HEAD", "/bkt/k", "HeadObject")]
    [InlineData("PUT", "/bkt/k", "PutObject")]
    [InlineData("DELETE", "/bkt/k", "DeleteObject")]
    [InlineData("POST", "/bkt/k?uploads", "CreateMultipartUpload")]
    [InlineData("PUT", "/bkt/k?partNumber=1&uploadId=u", "UploadPart")]
    [InlineData("POST", "/bkt/k?uploadId=u", "CompleteMultipartUpload")]
    [InlineData("DELETE", "/bkt/k?uploadId=u", "AbortMultipartUpload")]
    [InlineData("GET", "/bkt/k?uploadId=u", "ListParts")]
    [InlineData("GET", "/bkt/k?uploadId=u&max-parts=10&part-number-marker=2", "ListParts")]
    public void TryClassify_KnownRequests_NameTheirOperation(string method, string rawTarget, string operation)
    {
        var (ok, actual, error) = Classify(method, rawTarget);

        Assert.True(ok, $"{error}");
        Assert.Equal(operation, actual.ToString());
    }

    [Theory]
    [InlineData("/bkt/k", "CopyObject")]
    [InlineData("/bkt/k?partNumber=2&uploadId=u", "UploadPartCopy")]
    public void TryClassify_CopySourceHeader_MakesACopy(string rawTarget, string operation)
    {
        var (ok, actual, _) = Classify("PUT", rawTarget, ("x-amz-copy-source", "/src/key"));

        Assert.True(ok);
        Assert.Equal(operation, actual.ToString());
    }

    [Theory]
    [InlineData("GET", "/bkt?acl")]
    [InlineData("PUT", "/bkt?tagging")]
    [InlineData("GET", "/bkt?versioning")]
    [InlineData("GET", "/bkt?versions")]
    [InlineData("PUT", "/bkt?policy")]
    [InlineData("GET", "/bkt?cors")]
    [InlineData("PUT", "/bkt?lifecycle")]
    [InlineData("GET", "/bkt/k?acl")]
    [InlineData("GET", "/bkt/k?tagging")]
    [InlineData("GET", "/bkt/k?versionId=3HL4kqtJlcpXroDTDmJ")]
    [InlineData("DELETE", "/bkt/k?versionId=v")]
    [InlineData("POST", "/bkt/k?select&select-type=2")]
    [InlineData("POST", "/bkt/k?restore")]
    [InlineData("GET", "/bkt/k?attributes")]
    [InlineData("GET", "/bkt/k?partNumber=2")]
    [InlineData("HEAD", "/bkt/k?partNumber=1")]
    [InlineData("POST", "/bkt")]
    public void TryClassify_WhatTheGatewayDoesNotServe_IsNotImplemented(string method, string rawTarget)
    {
        var (ok, _, error) = Classify(method, rawTarget);

        Assert.False(ok);
        Assert.Equal("NotImplemented", error!.Code);
        Assert.Equal(501, error.StatusCode);
    }

    [Theory]
    [InlineData("PUT", "/", "MethodNotAllowed")]
    [InlineData("PATCH", "/bkt", "MethodNotAllowed")]
    [InlineData("PATCH", "/bkt/k", "MethodNotAllowed")]
    [InlineData("POST", "/bkt/k", "MethodNotAllowed")]
    [InlineData("OPTIONS", "/bkt/k", "MethodNotAllowed")]
    [InlineData("GET", "/bkt?list-type=3", "InvalidArgument")]
    [InlineData("PUT", "/bkt/k?partNumber=1", "InvalidArgument")]
    [InlineData("PUT", "/bkt/k?uploadId=u", "InvalidArgument")]
    [InlineData("GET", "/bkt/k?uploads", "InvalidRequest")]
    public void TryClassify_RequestsWithoutAnOperation_AreRefused(string method, string rawTarget, string code)
    {
        var (ok, _, error) = Classify(method, rawTarget);

        Assert.False(ok);
        Assert.Equal(code, error!.Code);
    }

    [Theory]
    [InlineData("GET", "/bkt/k")]
    [InlineData("POST", "/bkt/k?uploads")]
    [InlineData("PUT", "/bkt")]
    public void TryClassify_CopySourceOnAnythingButACopy_IsInvalidArgument(string method, string rawTarget)
    {
        var (ok, _, error) = Classify(method, rawTarget, ("x-amz-copy-source", "src/key"));

        Assert.False(ok);
        Assert.Equal("InvalidArgument", error!.Code);
    }

    // ---- Range ----

    [Theory]
    [InlineData("bytes=0-9", 100, 0, 10)]
    [InlineData("bytes=10-", 100, 10, 90)]
    [InlineData("bytes=-10", 100, 90, 10)]
    [InlineData("bytes=-1000", 100, 0, 100)]
    [InlineData("bytes=50-1000", 100, 50, 50)]
    [InlineData("bytes=99-99", 100, 99, 1)]
    [InlineData("bytes=0-0", 1, 0, 1)]
    [InlineData("BYTES = 1 - 2 ", 100, 1, 2)]
    [InlineData("bytes=0-99999999999999999999999", 100, 0, 100)]
    [InlineData("bytes=-99999999999999999999999", 100, 0, 100)]
    public void Evaluate_SatisfiableRange_IsPartial(string header, long size, long start, long length)
    {
        var range = RangeRequest.Evaluate(header, size);

        Assert.Equal(RangeOutcome.Partial, range.Outcome);
        Assert.Equal(new ByteRange(start, length), range.Range);
        Assert.Equal($"bytes {start}-{start + length - 1}/{size}", range.Range.ContentRange(size));
    }

    [Theory]
    [InlineData("bytes=100-", 100)]
    [InlineData("bytes=100-200", 100)]
    [InlineData("bytes=-0", 100)]
    [InlineData("bytes=0-", 0)]
    [InlineData("bytes=-5", 0)]
    [InlineData("bytes=99999999999999999999999-", 100)]
    public void Evaluate_RangeBeyondTheObject_IsUnsatisfiable(string header, long size)
    {
        Assert.Equal(RangeOutcome.Unsatisfiable, RangeRequest.Evaluate(header, size).Outcome);
        Assert.Equal($"bytes */{size}", ByteRange.UnsatisfiedContentRange(size));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bytes=")]
    [InlineData("bytes=-")]
    [InlineData("bytes=5-4")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=0-1, 5-6")]
    [InlineData("items=0-1")]
    [InlineData("bytes 0-1")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=1")]
    [InlineData("bytes=--1")]
    [InlineData("bytes=1-2-3")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=0x10-20")]
    [InlineData("invalid")]
    public void Evaluate_RangeS3Ignores_IsTheWholeObject(string? header) =>
        Assert.Equal(RangeOutcome.Whole, RangeRequest.Evaluate(header, 100).Outcome);

    [Fact]
    public void Evaluate_TwoRangeHeaders_IsTheWholeObject() =>
        Assert.Equal(RangeOutcome.Whole, RangeRequest.Evaluate(new Microsoft.Extensions.Primitives.StringValues(["bytes=0-1", "bytes=2-3"]), 100).Outcome);

    [Fact]
    public void Evaluate_EveryRangeOfASmallObject_StaysInsideIt()
    {
        // Property: a partial answer always lies within the object, and is never empty.
        for (long size = 0; size < 6; size++)
        {
            for (int a = -1; a < 9; a++)
            {
                for (int b = -1; b < 9; b++)
                {
                    string header = $"bytes={(a < 0 ? "" : a)}-{(b < 0 ? "" : b)}";
                    var range = RangeRequest.Evaluate(header, size);
                    if (range.Outcome == RangeOutcome.Partial)
                    {
                        Assert.InRange(range.Range.Start, 0, size - 1);
                        Assert.InRange(range.Range.End, range.Range.Start, size - 1);
                    }
                }
            }
        }
    }

    // ---- conditional requests ----

    private static readonly DateTimeOffset LastModified = new(2024, 5, 1, 12, 0, 0, 500, TimeSpan.Zero);
    private const string ETag = "\"abc123\"";
    private const string Before = "Wed, 01 May 2024 11:00:00 GMT";
    private const string Same = "Wed, 01 May 2024 12:00:00 GMT";
    private const string After = "Wed, 01 May 2024 13:00:00 GMT";

    [Theory]
    [InlineData(null, null, null, null, "Proceed")]
    [InlineData("\"abc123\"", null, null, null, "Proceed")]
    [InlineData("abc123", null, null, null, "Proceed")]
    [InlineData("W/\"abc123\"", null, null, null, "Proceed")]
    [InlineData("\"x\", \"abc123\"", null, null, null, "Proceed")]
    [InlineData("*", null, null, null, "Proceed")]
    [InlineData("\"other\"", null, null, null, "PreconditionFailed")]
    [InlineData(null, "\"abc123\"", null, null, "NotModified")]
    [InlineData(null, "*", null, null, "NotModified")]
    [InlineData(null, "\"other\"", null, null, "Proceed")]
    [InlineData(null, null, Before, null, "Proceed")]
    [InlineData(null, null, Same, null, "NotModified")]
    [InlineData(null, null, After, null, "NotModified")]
    [InlineData(null, null, null, Before, "PreconditionFailed")]
    [InlineData(null, null, null, Same, "Proceed")]
    [InlineData(null, null, null, After, "Proceed")]
    // S3's documented combinations:
    [InlineData("\"abc123\"", null, null, Before, "Proceed")]          // If-Match true, If-Unmodified-Since false: 200
    [InlineData(null, "\"abc123\"", Before, null, "NotModified")]      // If-None-Match false, If-Modified-Since true: 304
    [InlineData(null, "\"other\"", After, null, "Proceed")]            // If-None-Match true: If-Modified-Since not looked at
    [InlineData("\"other\"", "\"other\"", null, null, "PreconditionFailed")]
    [InlineData(null, null, "not a date", "not a date", "Proceed")]
    [InlineData(null, null, "2024-05-01T13:00:00Z", null, "NotModified")]
    [InlineData(null, null, "Wednesday, 01-May-24 13:00:00 GMT", null, "NotModified")]
    [InlineData(null, null, "Wed May  1 13:00:00 2024", null, "NotModified")]
    public void Evaluate_ConditionalGet_AnswersAsS3(string? ifMatch, string? ifNoneMatch, string? ifModifiedSince, string? ifUnmodifiedSince, string expected)
    {
        var headers = Headers();
        if (ifMatch is not null) headers.IfMatch = ifMatch;
        if (ifNoneMatch is not null) headers.IfNoneMatch = ifNoneMatch;
        if (ifModifiedSince is not null) headers.IfModifiedSince = ifModifiedSince;
        if (ifUnmodifiedSince is not null) headers.IfUnmodifiedSince = ifUnmodifiedSince;

        Assert.Equal(expected, S3Preconditions.Evaluate(headers, ETag, LastModified, isGetOrHead: true).ToString());
    }

    [Fact]
    public void Evaluate_FailedIfNoneMatchOnAWrite_IsPreconditionFailed()
    {
        var headers = Headers(("If-None-Match", "*"));

        Assert.Equal(PreconditionResult.PreconditionFailed, S3Preconditions.Evaluate(headers, ETag, LastModified, isGetOrHead: false));
        Assert.Equal(PreconditionResult.Proceed, S3Preconditions.Evaluate(headers, null, null, isGetOrHead: false));
        Assert.Equal(PreconditionResult.PreconditionFailed, S3Preconditions.Evaluate(Headers(("If-Match", "*")), null, null, isGetOrHead: false));
    }

    [Theory]
    [InlineData("x-amz-copy-source-if-match", "\"abc123\"", "Proceed")]
    [InlineData("x-amz-copy-source-if-match", "\"other\"", "PreconditionFailed")]
    [InlineData("x-amz-copy-source-if-none-match", "\"abc123\"", "PreconditionFailed")]
    [InlineData("x-amz-copy-source-if-modified-since", After, "PreconditionFailed")]
    [InlineData("x-amz-copy-source-if-modified-since", Before, "Proceed")]
    [InlineData("x-amz-copy-source-if-unmodified-since", Before, "PreconditionFailed")]
    public void EvaluateCopySource_FailuresAre412(string header, string value, string expected) =>
        Assert.Equal(expected, S3Preconditions.EvaluateCopySource(Headers((header, value)), ETag, LastModified).ToString());

    [Fact]
    public void EvaluateCopySource_S3DocumentedCombinations_Hold()
    {
        // if-match true and if-unmodified-since false: copy; if-none-match false and if-modified-since true: 412.
        Assert.Equal(PreconditionResult.Proceed, S3Preconditions.EvaluateCopySource(
            Headers(("x-amz-copy-source-if-match", ETag), ("x-amz-copy-source-if-unmodified-since", Before)), ETag, LastModified));
        Assert.Equal(PreconditionResult.PreconditionFailed, S3Preconditions.EvaluateCopySource(
            Headers(("x-amz-copy-source-if-none-match", ETag), ("x-amz-copy-source-if-modified-since", Before)), ETag, LastModified));
    }

    // ---- response-* overrides ----

    [Fact]
    public void TryRead_ResponseOverridesOnAuthenticatedRequest_MapToHeaders()
    {
        Assert.True(S3Query.TryParse("response-content-disposition=attachment%3B%20filename%3D%22a.txt%22&response-content-type=text%2Fplain&x-id=GetObject",
            out var query, out _));

        Assert.True(ResponseOverrides.TryRead(query, authenticated: true, out var headers, out _));
        Assert.Equal([new("Content-Type", "text/plain"), new("Content-Disposition", "attachment; filename=\"a.txt\"")], headers);
    }

    [Fact]
    public void TryRead_ResponseOverridesOnAnonymousRequest_AreInvalidRequest()
    {
        Assert.True(S3Query.TryParse("response-cache-control=no-cache", out var query, out _));

        Assert.False(ResponseOverrides.TryRead(query, authenticated: false, out _, out var error));
        Assert.Equal("InvalidRequest", error.Code);
        Assert.True(ResponseOverrides.TryRead(S3Query.Empty, authenticated: false, out var none, out _));
        Assert.Empty(none);
    }

    [Theory]
    [InlineData("response-content-type=text%2Fplain%0D%0ASet-Cookie%3A%20a%3Db")]
    [InlineData("response-content-type=a%00b")]
    [InlineData("response-expires=%C3%A9")]
    [InlineData("response-content-type=a&response-content-type=b")]
    public void TryRead_HeaderInjection_IsInvalidArgument(string rawQuery)
    {
        Assert.True(S3Query.TryParse(rawQuery, out var query, out _));

        Assert.False(ResponseOverrides.TryRead(query, authenticated: true, out _, out var error));
        Assert.Equal("InvalidArgument", error.Code);
    }

    // ---- x-amz-copy-source ----

    [Theory]
    [InlineData("source-bucket/key.txt", "source-bucket", "key.txt")]
    [InlineData("/source-bucket/dir/key.txt", "source-bucket", "dir/key.txt")]
    [InlineData("source-bucket%2Fdir%2Fkey.txt", "source-bucket", "dir/key.txt")]
    [InlineData("source-bucket/a%20b%2Bc%3Fd", "source-bucket", "a b+c?d")]
    [InlineData("source-bucket/%E6%97%A5", "source-bucket", "日")]
    [InlineData("source-bucket//leading", "source-bucket", "/leading")]
    public void TryParse_CopySource_DecodesBucketAndKey(string header, string bucket, string key)
    {
        Assert.True(CopySource.TryParse(header, out var source, out var error), $"{error}");

        Assert.Equal(new CopySource(bucket, key), source);
    }

    [Theory]
    [InlineData("source-bucket/key?versionId=abc", "NotImplemented")]
    [InlineData("source-bucket/key?other=1", "InvalidArgument")]
    [InlineData("source-bucket", "InvalidArgument")]
    [InlineData("source-bucket/", "InvalidArgument")]
    [InlineData("/", "InvalidArgument")]
    [InlineData("", "InvalidArgument")]
    [InlineData(null, "InvalidArgument")]
    [InlineData("Bad_Bucket/key", "InvalidArgument")]
    [InlineData("arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/key", "InvalidArgument")]
    [InlineData("bucket/k%zz", "InvalidArgument")]
    public void TryParse_BadCopySource_IsRefused(string? header, string code)
    {
        Assert.False(CopySource.TryParse(header, out _, out var error));
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void TryParse_CopySourceWithTooLongKey_IsKeyTooLong()
    {
        Assert.False(CopySource.TryParse("bucket/" + new string('k', 1025), out _, out var error));
        Assert.Equal("KeyTooLongError", error.Code);
    }

    [Theory]
    [InlineData("bytes=0-9", 100, true)]
    [InlineData("bytes=99-99", 100, true)]
    [InlineData("bytes=0-100", 100, false)]
    [InlineData("bytes=5-4", 100, false)]
    [InlineData("bytes=-5", 100, false)]
    [InlineData("bytes=5-", 100, false)]
    [InlineData("bytes= 0-9", 100, false)]
    [InlineData(null, 100, false)]
    public void TryParseRange_CopySourceRange_IsStrict(string? header, long size, bool accepted)
    {
        Assert.Equal(accepted, CopySource.TryParseRange(header, size, out _, out var error));
        if (!accepted)
            Assert.Equal("InvalidArgument", error!.Code);
    }
}
