using System.Text;
using OssOrleans.Client;

namespace OssOrleans.Ctl;

/// <summary>Exit codes of ossctl, for scripts.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int AccessDenied = 4;
}

/// <summary>A wrong command line; the message is one line, printed with the usage hint.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// One command of the table: its name (words, e.g. "tar index"), usage line, summary and handler. A command whose handler
/// is null is listed but answers "not available in this build" (a usage error).
/// </summary>
internal sealed record Command(string Name, string Usage, string Summary, Func<CommandContext, Task<int>>? Run, params string[] Flags);

/// <summary>The entry point of ossctl, callable in-process (tests) with its own streams.</summary>
internal static class CtlApp
{
    /// <summary>Environment variable with the default <c>--cluster</c> value.</summary>
    public const string ClusterVariable = "OSSCTL_CLUSTER";

    public static readonly IReadOnlyList<Command> Commands =
    [
        new("ls", "ls [--fast] [--recursive] [--sorted] oss://bucket/prefix", "list objects (one level unless --recursive; --fast lists in parallel across the cluster)", Ls.RunAsync, "--fast", "--recursive", "-r", "--sorted"),
        new("stat", "stat oss://bucket/key", "size, ETag, last-modified, CRC-64 and shards of an object", Stat.RunAsync),
        new("cat", "cat oss://bucket/key", "write an object's bytes to standard output", Cat.RunAsync),
        new("get", "get [--quiet] oss://bucket/key [local-path]", "download an object to a file (progress bar on standard error)", Get.RunAsync, "--quiet", "-q"),
        new("stats", "stats", "cache counters of every active silo, and the cluster's totals", Stats.RunAsync),
        new("put", "put [--create-only] [--quiet] local-path oss://bucket/key", "upload a file through the cluster (parallel parts; visible only when complete)", Put.RunAsync, "--create-only", "--quiet", "-q"),
        new("warm", "warm [--detach] [--quiet] oss://bucket/prefix", "prefetch a prefix into the cluster, with progress (Ctrl+C cancels the job)", Warm.RunAsync, "--detach", "--quiet", "-q"),
        new("prepare-dir", "prepare-dir [--quiet] oss://bucket/prefix local-dir", "materialize a model directory from the cluster, with progress", PrepareDir.RunAsync, "--quiet", "-q"),
        new("tar create", "tar create [--quiet] oss://bucket/prefix/|local-folder oss://bucket/archive.tar|local.tar [index]", "build a tar archive and its index (default: <archive>.index) from a prefix or a local folder", Tar.CreateAsync, "--quiet", "-q"),
        new("tar index", "tar index [--quiet] oss://bucket/archive.tar|local.tar [index]", "build the index of an existing tar archive (default: <archive>.index)", Tar.IndexAsync, "--quiet", "-q"),
    ];

    private const string GlobalUsage =
        "global options: --cluster host:port[,host:port...] (default $" + ClusterVariable + " or 127.0.0.1:30000), " +
        "--cluster-id ID, --service-id ID, --connect-timeout SECONDS (default 15), --credential-file FILE (default $OSSORLEANS_CREDENTIAL_FILE; " +
        "or $OSSORLEANS_ACCESS_KEY_ID and $OSSORLEANS_ACCESS_KEY_SECRET), --tls-ca FILE, --tls-cert FILE, --tls-key FILE, --json, --help";

    public static async Task<int> RunAsync(string[] args, Stream stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var output = new StreamWriter(stdout, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { AutoFlush = false };
        await using (output.ConfigureAwait(false))
        {
            try
            {
                var parsed = Parse(args, environment);
                if (parsed.Help || parsed.Command is null)
                {
                    await WriteUsageAsync(parsed.Help ? output : stderr).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return parsed.Help ? ExitCodes.Ok : ExitCodes.Usage;
                }
                if (parsed.Command.Run is null)
                    throw new UsageException($"'{parsed.Command.Name}' is not available in this build yet");
                await using var context = new CommandContext(parsed, stdout, output, stderr, cancellationToken);
                int code = await parsed.Command.Run(context).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return code;
            }
            catch (UsageException ex)
            {
                await stderr.WriteLineAsync($"ossctl: {ex.Message} (ossctl --help for usage)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (ArgumentException ex)
            {
                // Bad URIs and option values: the message says what is wrong with which argument.
                await stderr.WriteLineAsync($"ossctl: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (OssObjectNotFoundException ex)
            {
                await stderr.WriteLineAsync($"ossctl: not found: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("ossctl: cancelled").ConfigureAwait(false);
                return ExitCodes.Error;
            }
            catch (OssAccessDeniedException ex)
            {
                await stderr.WriteLineAsync($"ossctl: access denied: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.AccessDenied;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OriginFailedException or ObjectChangedException or OssObjectExistsException or FormatException
                or TimeoutException or UnauthorizedAccessException or OssIntegrityException || ex.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true)
            {
                await stderr.WriteLineAsync($"ossctl: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Error;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever else: one line, never a stack trace.
                await stderr.WriteLineAsync($"ossctl: {ex.GetType().Name}: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Error;
            }
        }
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }

    private static async Task WriteUsageAsync(TextWriter w)
    {
        await w.WriteLineAsync("usage: ossctl [global options] <command> [arguments]").ConfigureAwait(false);
        await w.WriteLineAsync("commands:").ConfigureAwait(false);
        foreach (var c in Commands)
            await w.WriteLineAsync($"  {c.Usage,-62} {c.Summary}{(c.Run is null ? " (not available in this build yet)" : "")}").ConfigureAwait(false);
        await w.WriteLineAsync(GlobalUsage).ConfigureAwait(false);
        await w.WriteLineAsync("exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 access denied").ConfigureAwait(false);
    }

    internal static ParsedArgs Parse(string[] args, Func<string, string?> environment)
    {
        var parsed = new ParsedArgs();
        var words = new List<string>();
        var gateways = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? inlineValue = null;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) is int eq and > 2)
                (a, inlineValue) = (a[..eq], a[(eq + 1)..]);
            string Value() => inlineValue ?? (++i < args.Length ? args[i] : throw new UsageException($"{a} needs a value"));
            switch (a)
            {
                case "--cluster": gateways.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--cluster-id": parsed.ClusterId = Value(); break;
                case "--service-id": parsed.ServiceId = Value(); break;
                case "--connect-timeout":
                    parsed.ConnectTimeout = double.TryParse(Value(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double sec) && sec > 0
                        ? TimeSpan.FromSeconds(sec)
                        : throw new UsageException("--connect-timeout needs a positive number of seconds");
                    break;
                case "--credential-file": parsed.CredentialFile = Value(); break;
                case "--tls-ca": parsed.TlsCaFile = Value(); break;
                case "--tls-cert": parsed.TlsCertificateFile = Value(); break;
                case "--tls-key": parsed.TlsKeyFile = Value(); break;
                case "--json": parsed.Json = true; break;
                case "-h" or "--help": parsed.Help = true; break;
                case "--": words.AddRange(args[(i + 1)..]); i = args.Length; break;
                default:
                    if (a.StartsWith('-') && a.Length > 1)
                        parsed.Flags.Add(a);
                    else
                        words.Add(a);
                    break;
            }
        }
        if (gateways.Count == 0)
            gateways.AddRange((environment(ClusterVariable) ?? "127.0.0.1:30000").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        parsed.Gateways = gateways;
        if (parsed.Help || words.Count == 0)
            return parsed;

        // The longest command name that the leading words spell ("tar index" before "tar").
        var command = Commands
            .Where(c => c.Name.Split(' ') is var parts && parts.Length <= words.Count && parts.SequenceEqual(words.Take(parts.Length), StringComparer.Ordinal))
            .MaxBy(c => c.Name.Length)
            ?? throw new UsageException(words[0] == "tar" ? "tar needs a subcommand: create or index" : $"unknown command '{words[0]}'");
        parsed.Command = command;
        parsed.Positionals = [.. words.Skip(command.Name.Split(' ').Length)];
        foreach (var flag in parsed.Flags)
        {
            if (!command.Flags.Contains(flag, StringComparer.Ordinal))
                throw new UsageException($"'{command.Name}' does not take {flag}; usage: ossctl {command.Usage}");
        }
        return parsed;
    }
}

internal sealed class ParsedArgs
{
    public Command? Command { get; set; }
    public List<string> Positionals { get; set; } = [];
    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);
    public List<string> Gateways { get; set; } = [];
    public string ClusterId { get; set; } = "ossorleans";
    public string ServiceId { get; set; } = "ossorleans";
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);
    public string? CredentialFile { get; set; }
    public string? TlsCaFile { get; set; }
    public string? TlsCertificateFile { get; set; }
    public string? TlsKeyFile { get; set; }
    public bool Json { get; set; }
    public bool Help { get; set; }
}

/// <summary>What a command runs with: its arguments, the output streams and a lazily connected client.</summary>
internal sealed class CommandContext(ParsedArgs args, Stream stdout, TextWriter output, TextWriter stderr, CancellationToken cancellationToken) : IAsyncDisposable
{
    private OssCacheClient? _client;

    public ParsedArgs Args { get; } = args;

    /// <summary>Raw standard output, for object bytes (cat). Flush <see cref="Out"/> before writing here.</summary>
    public Stream RawOut { get; } = stdout;

    public TextWriter Out { get; } = output;

    public TextWriter Err { get; } = stderr;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public bool Json => Args.Json;

    public bool Has(params string[] flags) => flags.Any(Args.Flags.Contains);

    /// <summary>Exactly <paramref name="min"/> to <paramref name="max"/> positional arguments, or a usage error.</summary>
    public IReadOnlyList<string> Positionals(int min, int max)
    {
        if (Args.Positionals.Count < min || Args.Positionals.Count > max)
            throw new UsageException($"usage: ossctl {Args.Command!.Usage}");
        return Args.Positionals;
    }

    public async Task<OssCacheClient> ClientAsync()
    {
        if (_client is null)
        {
            var options = new OssClientOptions
            {
                ClusterId = Args.ClusterId,
                ServiceId = Args.ServiceId,
                CredentialFile = Args.CredentialFile,
                TlsCaFile = Args.TlsCaFile,
                TlsCertificateFile = Args.TlsCertificateFile,
                TlsKeyFile = Args.TlsKeyFile,
            };
            options.Gateways.Clear();
            foreach (var g in Args.Gateways)
                options.Gateways.Add(g);
            // The Orleans client keeps retrying an unreachable gateway for minutes; a command line should fail sooner.
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
            connect.CancelAfter(Args.ConnectTimeout);
            try
            {
                _client = await OssCacheClient.ConnectAsync(options, connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!CancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException(
                    $"could not connect to the OssOrleans cluster at {string.Join(",", Args.Gateways)} within {Args.ConnectTimeout.TotalSeconds:0} s");
            }
        }
        return _client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync().ConfigureAwait(false);
    }
}
