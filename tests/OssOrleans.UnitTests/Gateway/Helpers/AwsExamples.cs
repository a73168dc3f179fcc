namespace OssOrleans.UnitTests.Gateway;

/// <summary>
/// The credentials and time of the worked examples in AWS's S3 API reference ("Signature Calculations for the
/// Authorization Header", "Authenticating Requests: Using Query Parameters", the chunked upload and trailer pages).
/// </summary>
internal static class AwsExamples
{
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string AmzDate = "20130524T000000Z";
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static readonly DateTimeOffset Time = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    public static string? Lookup(string accessKeyId) => accessKeyId == AccessKeyId ? Secret : null;

    public static string Authorization(string signedHeaders, string signature) =>
        $"AWS4-HMAC-SHA256 Credential={AccessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signedHeaders},Signature={signature}";
}
