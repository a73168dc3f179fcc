using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using OssOrleans.Gateway.Protocol;

namespace OssOrleans.UnitTests.Gateway;

/// <summary>Builds request heads as Kestrel would hand them over: raw target, headers with repeated names merged.</summary>
internal static class GatewayRequests
{
    public static IHeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
            dictionary[name] = StringValues.Concat(dictionary[name], value);
        return dictionary;
    }

    public static S3RequestHead Head(string method, string rawTarget, params (string Name, string Value)[] headers) =>
        Head(method, rawTarget, Headers(headers));

    public static S3RequestHead Head(string method, string rawTarget, IHeaderDictionary headers)
    {
        Assert.True(S3RequestHead.TryCreate(method, rawTarget, headers, out var head, out var error), $"request head refused: {error}");
        return head;
    }

    public static MemoryStream Body(string text) => new(System.Text.Encoding.UTF8.GetBytes(text));
}
