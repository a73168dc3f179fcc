using System.Globalization;
using System.Text;

namespace OssOrleans.ClusterTests.Listing;

/// <summary>Generated keyspaces for listing tests: deterministic for a seed, distinct keys, in listing order.</summary>
internal static class Keyspaces
{
    /// <summary>A tree 3 to 6 levels deep with random fan-out, files at every level.</summary>
    public static List<string> DeepTree(string root, int seed, int maxKeys)
    {
        var random = new Random(seed);
        var keys = new List<string>();
        void Walk(string dir, int depth)
        {
            int files = random.Next(0, 6);
            for (int i = 0; i < files && keys.Count < maxKeys; i++)
                keys.Add($"{dir}file-{random.Next(100_000):D5}.bin");
            if (depth >= 6 || (depth >= 3 && random.Next(3) == 0))
                return;
            int subdirs = random.Next(1, depth < 2 ? 9 : 5);
            for (int i = 0; i < subdirs && keys.Count < maxKeys; i++)
                Walk($"{dir}d{depth}-{random.Next(1000):D3}/", depth + 1);
        }
        while (keys.Count < maxKeys)
            Walk(root, 0);
        return Sorted(keys);
    }

    /// <summary>One flat directory: zero-padded counters, a block of random hex names and a few unpadded numbers.</summary>
    public static List<string> Flat(string root, int seed, int counters, int hex)
    {
        var random = new Random(seed);
        var keys = new List<string>();
        for (int i = 0; i < counters; i++)
            keys.Add($"{root}{i:D7}.jpg");
        var bytes = new byte[8];
        for (int i = 0; i < hex; i++)
        {
            random.NextBytes(bytes);
            keys.Add(root + Convert.ToHexString(bytes).ToLowerInvariant());
        }
        for (int i = 1; i < 2000; i *= 3)
            keys.Add($"{root}n{i.ToString(CultureInfo.InvariantCulture)}");
        return Sorted(keys);
    }

    /// <summary>One huge directory, many tiny ones (including empty-named levels) and loose files around them.</summary>
    public static List<string> Skewed(string root, int seed, int huge, int small)
    {
        var random = new Random(seed);
        var keys = new List<string>();
        for (int i = 0; i < huge; i++)
            keys.Add($"{root}m-huge/{i:D6}-{random.Next(10):D1}");
        for (int i = 0; i < small; i++)
        {
            string dir = $"{root}s{random.Next(1_000_000):D6}/";
            int files = random.Next(1, 4);
            for (int f = 0; f < files; f++)
                keys.Add($"{dir}{(char)('a' + f)}");
        }
        for (int i = 0; i < 50; i++)
            keys.Add($"{root}loose-{i:D2}");
        keys.Add($"{root}m-huge");          // a key that is also a directory's name
        keys.Add($"{root}m-huge-sibling/x");
        return Sorted(keys);
    }

    /// <summary>
    /// Awkward keys: unicode in and beyond the BMP, spaces, repeated and trailing '/', keys that are prefixes of other keys,
    /// characters on both sides of '/' in sort order, and keys of exactly 1023 UTF-8 bytes.
    /// </summary>
    public static List<string> Awkward(string root, int seed, int count)
    {
        var random = new Random(seed);
        string[] parts = ["a", "b", "Ä", "é", "日本", "データ", "😀", "𝄞", "with space", " lead", "trail ", "x-y", "x.y", "x", "x0", "x/", "", "~", "z"];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (keys.Count < count)
        {
            int depth = random.Next(1, 5);
            var sb = new StringBuilder(root);
            for (int d = 0; d < depth; d++)
            {
                sb.Append(parts[random.Next(parts.Length)]);
                if (d < depth - 1 || random.Next(4) == 0)
                    sb.Append(random.Next(5) == 0 ? "//" : "/");
            }
            sb.Append(random.Next(50).ToString(CultureInfo.InvariantCulture));
            keys.Add(sb.ToString());
        }
        keys.Add(root + "x");
        keys.Add(root + "x/");
        keys.Add(root + "x//");
        keys.Add(root + "x///y");
        for (int i = 0; i < 40; i++)
            keys.Add(LongKey(root, i));
        return Sorted(keys);
    }

    /// <summary>A key of exactly 1023 UTF-8 bytes made of segments of at most 200 characters, some multi-byte.</summary>
    public static string LongKey(string root, int n)
    {
        var sb = new StringBuilder(root);
        sb.Append(CultureInfo.InvariantCulture, $"long-{n:D2}/");
        while (Encoding.UTF8.GetByteCount(sb.ToString()) < 1023 - 210)
            sb.Append(n % 2 == 0 ? new string('é', 100) : new string('k', 199)).Append('/');
        int missing = 1023 - Encoding.UTF8.GetByteCount(sb.ToString());
        sb.Append(new string('t', missing));
        string key = sb.ToString();
        if (Encoding.UTF8.GetByteCount(key) != 1023)
            throw new InvalidOperationException("long key is not 1023 bytes");
        return key;
    }

    public static List<string> Sorted(IEnumerable<string> keys)
    {
        var list = keys.Distinct(StringComparer.Ordinal).ToList();
        list.Sort(KeyOrder.Comparer);
        return list;
    }
}
