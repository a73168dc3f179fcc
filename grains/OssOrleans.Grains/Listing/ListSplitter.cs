namespace OssOrleans.Grains.Listing;

/// <summary>
/// A "/" delimiter listing of a directory level, after the last listed key: its keys and common prefixes (one page;
/// <paramref name="Truncated"/> when the level has more).
/// </summary>
internal sealed record DirectoryProbe(string Level, IReadOnlyList<string> Items, bool Truncated = false);

/// <summary>What a partition knows when it decides how to split the rest of its range.</summary>
/// <param name="Prefix">The listing prefix.</param>
/// <param name="Delimiter">The listing's delimiter (a one-level listing), or null for a recursive listing.</param>
/// <param name="Items">The last page's items in the partition's range, ascending; the last one is where the remainder starts.</param>
/// <param name="End">The inclusive end of the remainder, or null when it is open.</param>
/// <param name="Probes">Directory probes (recursive listings only; see <see cref="ListSplitter.ProbeLevels"/>).</param>
/// <param name="MinChildKeys">The smallest child worth a partition of its own, in keys.</param>
/// <param name="MaxChildren">The most children one split makes.</param>
/// <param name="Listed">Keys the partition has listed so far: a range still truncated after that many is assumed to hold
/// at least as many again, whatever the names suggest.</param>
internal sealed record SplitInput(
    string Prefix,
    string? Delimiter,
    IReadOnlyList<string> Items,
    string? End,
    IReadOnlyList<DirectoryProbe> Probes,
    int MinChildKeys,
    int MaxChildren,
    long Listed = 0);

/// <summary>
/// Chooses where a partition splits the rest of its range. The remainder (last, end] is cut at boundaries
/// b1 &lt; b2 &lt; ... &lt; bm, all strictly inside it: the partition keeps (last, b1] and each child gets (bi, bi+1]
/// (the last one (bm, end]). Because every range is "after one string, up to and including the next", every key belongs
/// to exactly one range whatever the boundaries are; the estimates below only decide how balanced the ranges are.
/// <para>
/// Candidate boundaries come from two sources. Directories: common prefixes from "/" delimiter probes at the levels
/// above the last key's directory (each weighs as much as the last key's own directory at that level is estimated to
/// hold). Key ranges in a flat directory: the last key with one character raised ("bumped") at some position, using the
/// characters seen at the varying positions of the page (digits, hex, letters...) as the alphabet; the page's span in
/// that mixed-radix number system gives the keys per unit of each position. Candidates are then grouped greedily into
/// about equal shares of the estimate, but towards an open end geometrically (the partition keeps about
/// <see cref="SplitInput.MinChildKeys"/>, each next child may hold twice as much as the one before): there the estimate
/// is least reliable (a flat keyspace whose upper digits are never used looks ten times larger than it is), and a child
/// that turns out large splits again.
/// </para>
/// </summary>
internal static class ListSplitter
{
    // Positions measured to estimate the page's span: 8 positions of up to ~60 symbols stay well inside a double's precision.
    private const int SpanPositions = 8;
    private const int MaxCandidates = 4096;

    /// <summary>
    /// Directory levels worth probing for the remainder after <paramref name="last"/> in a recursive listing: the deepest
    /// directory shared by <paramref name="last"/> and <paramref name="end"/>, and the last key's directory one level below
    /// it, when these are above the last key's own directory (which is split by key range instead). At most two.
    /// </summary>
    public static IReadOnlyList<string> ProbeLevels(string prefix, string last, string? end)
    {
        string common = CommonDirectory(prefix, last, end);
        string own = DirectoryOf(prefix, last);
        if (own.Length <= common.Length)
            return [];
        int slash = last.IndexOf('/', common.Length);
        string below = last[..(slash + 1)];
        return below.Length < own.Length ? [common, below] : [common];
    }

    /// <summary>The boundaries at which to split, ascending, each strictly between the last item and the end.</summary>
    public static IReadOnlyList<string> Boundaries(SplitInput input) => Plan(input).Children.Select(c => c.Bound).ToList();

    /// <summary>
    /// The split: children by their start (exclusive) with the keys each is estimated to hold, and the estimate for the
    /// part the partition keeps. No children when the remainder is not worth splitting (<see cref="SplitPlan.Total"/>
    /// is then the estimate of the whole remainder).
    /// </summary>
    public static SplitPlan Plan(SplitInput input)
    {
        if (input.Items.Count == 0 || input.MaxChildren < 1)
            return new SplitPlan([], 0, 0);
        string last = input.Items[^1];
        var candidates = new List<(string Bound, double Weight)>();
        double own;
        if (input.Delimiter is not null)
        {
            // One level: every item (key or common prefix) is one entry, so the flat-range estimate applies to all of them.
            var tail = FlatTail(input.Prefix, input.Items, last);
            own = tail.Own;
            candidates.AddRange(tail.Bumps);
        }
        else
        {
            own = Recursive(input, last, candidates);
        }

        var bounds = new List<(string Bound, double Weight)>(candidates.Count);
        foreach (var (bound, weight) in candidates)
        {
            string b = input.Delimiter is null ? bound : CutAtDelimiter(bound, input.Prefix, input.Delimiter);
            if (KeyOrder.Compare(b, last) > 0 && (input.End is null || KeyOrder.Compare(b, input.End) < 0))
                bounds.Add((b, weight));
        }
        bounds.Sort((x, y) => KeyOrder.Compare(x.Bound, y.Bound));
        return Group(own, Dedupe(bounds), input.MinChildKeys, input.MaxChildren, input.Listed, geometric: input.End is null);
    }

    /// <summary>The directory of <paramref name="key"/> under <paramref name="prefix"/>: up to its last '/', or the prefix itself.</summary>
    public static string DirectoryOf(string prefix, string key)
    {
        int slash = key.LastIndexOf('/');
        return slash + 1 > prefix.Length ? key[..(slash + 1)] : prefix;
    }

    /// <summary>The deepest directory (or the prefix) that contains both <paramref name="last"/> and everything up to <paramref name="end"/>.</summary>
    public static string CommonDirectory(string prefix, string last, string? end)
    {
        if (end is null)
            return prefix;
        int common = last.AsSpan().CommonPrefixLength(end);
        int slash = last.LastIndexOf('/', Math.Max(0, common - 1));
        return common > 0 && slash + 1 > prefix.Length ? last[..(slash + 1)] : prefix;
    }

    private static double Recursive(SplitInput input, string last, List<(string Bound, double Weight)> candidates)
    {
        string prefix = input.Prefix;
        var items = input.Items;
        string own = DirectoryOf(prefix, last);

        // Key ranges inside the last key's own directory.
        var direct = new List<string>();
        var leafDirectories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            string dir = DirectoryOf(prefix, item);
            leafDirectories.Add(dir);
            if (dir.Length == own.Length && item.StartsWith(own, StringComparison.Ordinal))
                direct.Add(item);
        }
        var tail = FlatTail(own, direct, last);
        double tailOwn = tail.Own;
        var bumps = tail.Bumps;
        if (leafDirectories.Count >= 2 && own.Length > prefix.Length)
        {
            // The page spans whole directories: they say how large one is, which beats extrapolating this one's names.
            double typical = (double)items.Count / leafDirectories.Count;
            double remaining = Math.Max(0, typical - direct.Count);
            double estimated = tailOwn + bumps.Sum(b => b.Weight);
            double scale = estimated > 0 ? remaining / estimated : 0;
            tailOwn *= scale;
            bumps = [.. bumps.Select(b => (b.Bound, b.Weight * scale))];
        }
        candidates.AddRange(bumps);

        // Directories above it, deepest level first: a directory at one level holds the estimates of the levels below.
        double inside = tailOwn + bumps.Sum(b => b.Weight);
        foreach (var probe in input.Probes.OrderByDescending(p => p.Level.Length))
        {
            if (!last.StartsWith(probe.Level, StringComparison.Ordinal) || last.Length <= probe.Level.Length)
                continue;
            int slash = last.IndexOf('/', probe.Level.Length);
            if (slash < 0)
                continue;
            string ancestor = last[..(slash + 1)];
            var siblings = new HashSet<string>(StringComparer.Ordinal);
            int under = 0;
            foreach (var item in items)
            {
                if (!item.StartsWith(probe.Level, StringComparison.Ordinal))
                    continue;
                int s = item.IndexOf('/', probe.Level.Length);
                if (s >= 0)
                    siblings.Add(item[..(s + 1)]);
                if (item.StartsWith(ancestor, StringComparison.Ordinal))
                    under++;
            }
            double directorySize = siblings.Count >= 2 ? (double)items.Count / siblings.Count : under + inside;
            double added = 0;
            var after = new List<string>(probe.Items.Count);
            foreach (var item in probe.Items)
            {
                if (KeyOrder.Compare(item, last) <= 0)
                    continue;
                double weight = item.EndsWith('/') && item.Length > probe.Level.Length ? directorySize : 1;
                candidates.Add((item, weight));
                after.Add(item);
                added += weight;
            }
            if (probe.Truncated && after.Count > 0)
            {
                // The level goes on past the probe's page: extrapolate its names like a flat level (or, failing that,
                // assume as much again), each further item weighing what the probed ones did on average.
                double perItem = added / after.Count;
                var beyond = FlatTail(probe.Level, after, after[^1]);
                double more = beyond.Own + beyond.Bumps.Sum(b => b.Weight);
                if (more <= 0)
                {
                    candidates[^1] = (candidates[^1].Bound, candidates[^1].Weight + added);
                    added *= 2;
                }
                else
                {
                    candidates[^1] = (candidates[^1].Bound, candidates[^1].Weight + beyond.Own * perItem);
                    candidates.AddRange(beyond.Bumps.Select(b => (b.Bound, b.Weight * perItem)));
                    added += more * perItem;
                }
            }
            inside += added;
        }
        return tailOwn;
    }

    /// <summary>
    /// Boundaries inside one flat level: <paramref name="last"/> with one character raised, and the estimated keys
    /// between each boundary and the next. <paramref name="items"/> are the page's items in that level, ascending.
    /// </summary>
    internal static (double Own, List<(string Bound, double Weight)> Bumps) FlatTail(string level, IReadOnlyList<string> items, string last)
    {
        var bumps = new List<(string, double)>();
        if (items.Count < 2 || !last.StartsWith(level, StringComparison.Ordinal))
            return (0, bumps);
        string first = items[0][level.Length..];
        string lastSuffix = last[level.Length..];
        int cp = first.AsSpan().CommonPrefixLength(lastSuffix);
        if (cp >= lastSuffix.Length)
            return (0, bumps);

        var suffixes = items.Select(i => i.Length > level.Length ? i[level.Length..] : "").ToList();
        int maxLength = Math.Min(suffixes.Max(s => s.Length), cp + SpanPositions + 1);
        var observed = new List<SortedSet<char>>();
        for (int j = 0; j < maxLength; j++)
        {
            var set = new SortedSet<char>();
            foreach (var s in suffixes)
            {
                if (j < s.Length && !char.IsSurrogate(s[j]))
                    set.Add(s[j]);
            }
            observed.Add(set);
        }
        // The alphabet of the varying positions, widened to whole character classes (digits, hex, letters).
        var varying = new SortedSet<char>();
        for (int j = cp; j < maxLength; j++)
        {
            if (observed[j].Count >= 2)
                varying.UnionWith(observed[j]);
        }
        var classAlphabet = Widen(varying);
        var alphabets = new char[maxLength][];
        for (int j = 0; j < maxLength; j++)
        {
            if (j >= cp)
                alphabets[j] = observed[j].Count >= 2 ? Widen(observed[j]) : [.. observed[j]];
            else
                alphabets[j] = j < lastSuffix.Length && Array.BinarySearch(classAlphabet, lastSuffix[j]) >= 0 ? classAlphabet : [lastSuffix[j]];
        }
        int Radix(int j) => j < maxLength ? Math.Max(1, alphabets[j].Length) : 1;

        // Keys per prefix of length cp, from the fraction of such a unit the page spans.
        double units = 1;
        for (int j = cp; j < Math.Min(maxLength, cp + SpanPositions); j++)
            units *= Radix(j);
        double span = Value(lastSuffix, cp, alphabets, maxLength) - Value(first, cp, alphabets, maxLength) + 1;
        double perUnit = items.Count / Math.Clamp(span / units, 1e-12, 1);

        // Weight of a bump at position j: keys per prefix of length j + 1.
        double weight = perUnit / Radix(cp);
        double fractionIn = (Value(lastSuffix, cp + 1, alphabets, maxLength) + 1) / Units(cp + 1, alphabets, maxLength);
        double own = weight * Math.Max(0, 1 - fractionIn);
        for (int j = cp; j >= 0 && bumps.Count < MaxCandidates; j--)
        {
            if (j < cp)
                weight *= Radix(j + 1);
            if (j >= lastSuffix.Length || char.IsSurrogate(lastSuffix[j]))
                continue;
            var alphabet = alphabets[j];
            int from = Array.BinarySearch(alphabet, lastSuffix[j]);
            from = from >= 0 ? from + 1 : ~from;
            string head = level + lastSuffix[..j];
            for (int k = from; k < alphabet.Length && bumps.Count < MaxCandidates; k++)
                bumps.Add((head + alphabet[k], weight));
        }
        // Deeper positions come first in key order; within a position, characters ascend.
        return (own, bumps);
    }

    // The suffix's positions [from, from + SpanPositions) as a mixed-radix number over the alphabets.
    private static double Value(string s, int from, char[][] alphabets, int maxLength)
    {
        double value = 0;
        for (int j = from; j < Math.Min(maxLength, from + SpanPositions); j++)
        {
            int radix = Math.Max(1, alphabets[j].Length);
            int digit = 0;
            if (j < s.Length && radix > 1)
            {
                int r = Array.BinarySearch(alphabets[j], s[j]);
                digit = Math.Clamp(r >= 0 ? r : ~r, 0, radix - 1);
            }
            value = value * radix + digit;
        }
        return value;
    }

    private static double Units(int from, char[][] alphabets, int maxLength)
    {
        double units = 1;
        for (int j = from; j < Math.Min(maxLength, from + SpanPositions); j++)
            units *= Math.Max(1, alphabets[j].Length);
        return units;
    }

    /// <summary>Widens observed characters to the classes they suggest: any digit means 0-9; letters up to f next to digits mean hex.</summary>
    internal static char[] Widen(IEnumerable<char> observed)
    {
        var set = new SortedSet<char>();
        bool digit = false, lower = false, upper = false, lowerBeyondHex = false, upperBeyondHex = false;
        foreach (char c in observed)
        {
            if (char.IsSurrogate(c))
                continue;
            if (char.IsAsciiDigit(c)) digit = true;
            else if (char.IsAsciiLetterLower(c)) { lower = true; lowerBeyondHex |= c > 'f'; }
            else if (char.IsAsciiLetterUpper(c)) { upper = true; upperBeyondHex |= c > 'F'; }
            else set.Add(c);
        }
        if (digit)
            AddRange(set, '0', '9');
        if (lower)
            AddRange(set, 'a', digit && !lowerBeyondHex ? 'f' : 'z');
        if (upper)
            AddRange(set, 'A', digit && !upperBeyondHex ? 'F' : 'Z');
        return [.. set];
    }

    private static void AddRange(SortedSet<char> set, char from, char to)
    {
        for (char c = from; c <= to; c++)
            set.Add(c);
    }

    private static string CutAtDelimiter(string bound, string prefix, string delimiter)
    {
        int at = bound.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
        return at < 0 ? bound : bound[..at];
    }

    private static List<(string Bound, double Weight)> Dedupe(List<(string Bound, double Weight)> sorted)
    {
        var result = new List<(string, double)>(sorted.Count);
        foreach (var c in sorted)
        {
            if (result.Count > 0 && result[^1].Item1 == c.Bound)
                result[^1] = (c.Bound, result[^1].Item2 + c.Weight);
            else
                result.Add(c);
        }
        return result;
    }

    // Greedy grouping into about equal shares. Towards an open end (where the estimate is the least reliable) geometric
    // instead: the partition keeps about minChild keys and child i may hold minChild * 2^i, up to an equal share.
    // Weights of 0 (nothing known) still leave their boundaries usable once the estimate is scaled up.
    private static SplitPlan Group(double own, List<(string Bound, double Weight)> candidates, int minChild, int maxChildren, long listed, bool geometric)
    {
        double total = own + candidates.Sum(c => c.Weight);
        if (total > 0 && total < listed)
        {
            // The names promise less than the paging has shown so far: trust the paging, keep the names' proportions.
            double scale = listed / total;
            own *= scale;
            for (int i = 0; i < candidates.Count; i++)
                candidates[i] = (candidates[i].Bound, candidates[i].Weight * scale);
            total = listed;
        }
        var children = new List<(string Bound, double Weight)>();
        if (candidates.Count == 0 || total < 2.0 * minChild)
            return new SplitPlan(children, total, total);
        double share = Math.Max(minChild, total / maxChildren);
        double target = geometric ? minChild : share, group = own, kept = -1;
        foreach (var (bound, weight) in candidates)
        {
            if (group >= Math.Min(target, share) && children.Count < maxChildren)
            {
                if (kept < 0)
                    kept = group;
                else
                    children[^1] = (children[^1].Bound, group);
                children.Add((bound, 0));
                group = 0;
                target *= 2;
            }
            group += weight;
        }
        if (children.Count == 0)
            return new SplitPlan(children, total, total);
        children[^1] = (children[^1].Bound, group);
        return new SplitPlan(children, kept, total);
    }
}

/// <summary>How a partition splits: its children (start, estimated keys), and the estimated keys of the part it keeps.</summary>
internal sealed record SplitPlan(IReadOnlyList<(string Bound, double Weight)> Children, double Own, double Total);
