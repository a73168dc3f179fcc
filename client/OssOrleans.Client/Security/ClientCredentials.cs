using System.Text.Json;

namespace OssOrleans.Client.Security;

/// <summary>
/// The tenant a client acts as: its access key id and the key its calls are signed with (derived from the secret, which is
/// not kept), or anonymous. From <see cref="OssClientOptions"/>, else the environment (<c>OSSORLEANS_ACCESS_KEY_ID</c> and
/// <c>OSSORLEANS_ACCESS_KEY_SECRET</c>), else a credential file (<see cref="OssClientOptions.CredentialFile"/> or
/// <c>OSSORLEANS_CREDENTIAL_FILE</c>; JSON <c>{"AccessKeyId", "AccessKeySecret"}</c>, the shape of the origin's credential
/// file, owner-only).
/// </summary>
internal sealed class ClientCredentials
{
    public const string KeyIdVariable = "OSSORLEANS_ACCESS_KEY_ID";
    public const string SecretVariable = "OSSORLEANS_ACCESS_KEY_SECRET";
    public const string FileVariable = "OSSORLEANS_CREDENTIAL_FILE";

    private ClientCredentials(string tenant, byte[]? key)
    {
        Tenant = tenant;
        Key = key;
    }

    public static ClientCredentials Anonymous { get; } = new(CallProof.AnonymousTenant, null);

    /// <summary>The access key id, or <see cref="CallProof.AnonymousTenant"/>: the owner part of the keys of this client's uploads, jobs and datasets.</summary>
    public string Tenant { get; }

    /// <summary>The call-signing key, or null for an anonymous client.</summary>
    public byte[]? Key { get; }

    public bool IsAnonymous => Key is null;

    public static ClientCredentials Resolve(OssClientOptions options)
    {
        string? id = options.AccessKeyId, secret = options.AccessKeySecret;
        string source = "OssClientOptions.AccessKeyId/AccessKeySecret";
        if (string.IsNullOrEmpty(id) && string.IsNullOrEmpty(secret))
        {
            (id, secret) = (Environment.GetEnvironmentVariable(KeyIdVariable), Environment.GetEnvironmentVariable(SecretVariable));
            source = $"{KeyIdVariable}/{SecretVariable}";
        }
        if (string.IsNullOrEmpty(id) && string.IsNullOrEmpty(secret))
        {
            string? file = options.CredentialFile ?? Environment.GetEnvironmentVariable(FileVariable);
            if (string.IsNullOrEmpty(file))
                return Anonymous;
            (id, secret) = ReadFile(file);
            source = $"credential file {file}";
        }
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
            throw new ArgumentException($"{source}: both the access key id and its secret are required");
        if (id == CallProof.AnonymousTenant || id.Contains('/', StringComparison.Ordinal) || id.Contains(':', StringComparison.Ordinal))
            throw new ArgumentException($"{source}: '{id}' is not a valid access key id");
        return new ClientCredentials(id, CallProof.DeriveKey(secret));
    }

    private static (string? Id, string? Secret) ReadFile(string path)
    {
        string text;
        try
        {
            text = SecretFile.ReadAll(path, "OssClientOptions.CredentialFile");
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
        try
        {
            var doc = JsonSerializer.Deserialize<FileShape>(text, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
            return (doc?.AccessKeyId, doc?.AccessKeySecret);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"credential file {path} is not JSON {{\"AccessKeyId\", \"AccessKeySecret\"}} (line {ex.LineNumber + 1})", ex);
        }
    }

    private sealed class FileShape
    {
        public string? AccessKeyId { get; set; }
        public string? AccessKeySecret { get; set; }
    }
}
