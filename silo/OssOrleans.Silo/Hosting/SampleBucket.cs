using System.Text;
using OssOrleans.Storage;

namespace OssOrleans.Silo.Hosting;

/// <summary>
/// A small bucket seeded into an empty local origin, so a fresh checkout has something to read, list and warm:
/// a text file, a tiny dataset of 64 samples and a tiny model directory.
/// </summary>
internal static class SampleBucket
{
    public const string Name = "sample";

    public static async Task<bool> SeedIfMissingAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        try
        {
            var page = await store.ListPageAsync(new ListRequest(Name) { MaxKeys = 1 }, cancellationToken).ConfigureAwait(false);
            if (page.Entries.Count > 0)
                return false;
        }
        catch (ObjectNotFoundException)
        {
            // No bucket yet: the first put creates it.
        }

        await store.PutAsync(Name, "README.txt", Encoding.UTF8.GetBytes(
            "Sample bucket seeded by the OssOrleans silo.\n" +
            "datasets/tiny/ holds 64 samples of 16 KiB with labels in manifest.tsv;\n" +
            "models/tiny/ holds a config and a 4 MiB weights file.\n"), cancellationToken: cancellationToken).ConfigureAwait(false);

        var manifest = new StringBuilder();
        for (int i = 0; i < 64; i++)
        {
            string key = $"datasets/tiny/train/{i:D6}.bin";
            await store.PutAsync(Name, key, Deterministic(16 * 1024, seed: i), cancellationToken: cancellationToken).ConfigureAwait(false);
            manifest.Append(key).Append('\t').Append(i % 10).Append('\n');
        }
        await store.PutAsync(Name, "datasets/tiny/manifest.tsv", Encoding.UTF8.GetBytes(manifest.ToString()), cancellationToken: cancellationToken).ConfigureAwait(false);

        await store.PutAsync(Name, "models/tiny/config.json", Encoding.UTF8.GetBytes("{\"model_type\":\"tiny\",\"hidden_size\":64,\"layers\":2}\n"), cancellationToken: cancellationToken).ConfigureAwait(false);
        await store.PutAsync(Name, "models/tiny/weights.bin", Deterministic(4 * 1024 * 1024, seed: 1000), cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    // Seeded pseudo-random bytes: the same on every machine, so a user can compare hashes across nodes.
    private static byte[] Deterministic(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
