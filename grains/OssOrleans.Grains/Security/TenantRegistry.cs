using System.Text.Json;
using Microsoft.Extensions.Options;

namespace OssOrleans.Grains.Security;

/// <summary>
/// The tenants this silo knows, by access key id, read once at start from <see cref="AuthOptions"/> (and its files). With
/// none the cluster is anonymous. Invalid tenants stop the silo with one line naming the setting.
/// </summary>
public sealed class TenantRegistry
{
    private readonly Dictionary<string, Tenant> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, Tenant> _byTag = [];

    public TenantRegistry(IOptions<AuthOptions> options)
        : this(options.Value)
    {
    }

    public TenantRegistry(AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var all = new List<(TenantOptions Tenant, string Setting)>();
        for (int i = 0; i < options.Tenants.Count; i++)
            all.Add((options.Tenants[i], $"{AuthOptions.Section}:Tenants:{i}"));
        if (!string.IsNullOrEmpty(options.TenantsFile))
            all.AddRange(ReadFile(options.TenantsFile));
        foreach (var (t, setting) in all)
        {
            var tenant = Build(t, setting);
            if (!_byKey.TryAdd(tenant.Id, tenant))
                throw new InvalidOperationException($"{setting}:AccessKeyId: '{tenant.Id}' is given twice");
            _byTag[tenant.Tag] = tenant;
        }
    }

    /// <summary>True when no tenant is configured: every client is <see cref="Tenant.Anonymous"/>.</summary>
    public bool IsAnonymous => _byKey.Count == 0;

    public IReadOnlyCollection<Tenant> Tenants => _byKey.Values;

    /// <summary>A configured tenant by its access key id.</summary>
    public bool TryGet(string accessKeyId, out Tenant tenant) => _byKey.TryGetValue(accessKeyId, out tenant!);

    /// <summary>The tenant a capability token's tag names (for audit lines), if known.</summary>
    internal string NameOfTag(ulong tag) =>
        tag == Tenant.Anonymous.Tag ? Tenant.Anonymous.Id : _byTag.TryGetValue(tag, out var t) ? t.Id : "silo";

    private static Tenant Build(TenantOptions t, string setting)
    {
        string id = t.AccessKeyId ?? "";
        if (id.Length is < 3 or > 128 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw new InvalidOperationException($"{setting}:AccessKeyId: '{Truncate(id)}' must be 3 to 128 letters, digits, '.', '_' or '-'");
        if (id == CallProof.AnonymousTenant)
            throw new InvalidOperationException($"{setting}:AccessKeyId: '{id}' is reserved");
        if (!string.IsNullOrEmpty(t.Secret) && !string.IsNullOrEmpty(t.SecretFile))
            throw new InvalidOperationException($"{setting}: give Secret or SecretFile, not both");
        string secret = !string.IsNullOrEmpty(t.SecretFile) ? SecretFile.ReadFirstLine(t.SecretFile, $"{setting}:SecretFile") : t.Secret ?? "";
        if (secret.Length < 16)
            throw new InvalidOperationException($"{setting}:Secret: the secret of '{id}' must be at least 16 characters");
        var grants = new List<Grant>();
        for (int g = 0; g < t.Grants.Count; g++)
        {
            try
            {
                grants.Add(Grant.Parse(t.Grants[g]));
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"{setting}:Grants:{g}: {ex.Message}", ex);
            }
        }
        return new Tenant(id, secret, grants);
    }

    private static IEnumerable<(TenantOptions, string)> ReadFile(string path)
    {
        string setting = $"{AuthOptions.Section}:TenantsFile";
        string text = SecretFile.ReadAll(path, setting);
        TenantsDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<TenantsDocument>(text, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        }
        catch (JsonException ex)
        {
            // The position, not the content: the file holds secrets.
            throw new InvalidOperationException($"{setting}: '{path}' is not valid JSON (line {ex.LineNumber + 1})", ex);
        }
        var tenants = doc?.Tenants ?? [];
        return tenants.Select((t, i) => (t, $"{setting}({path}):Tenants:{i}"));
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private sealed class TenantsDocument
    {
        public List<TenantOptions> Tenants { get; set; } = [];
    }
}
