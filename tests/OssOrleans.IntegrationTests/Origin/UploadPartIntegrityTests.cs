using OssOrleans.Checksums;
using OssOrleans.Storage;
using OssOrleans.TestKit;

namespace OssOrleans.IntegrationTests.Origin;

/// <summary>
/// Every uploaded part is checked end to end: by the SHA-256 in its signature, or, once the origin has shown it reports
/// the CRC-64 of each part it stores (as OSS does), by comparing that CRC with the CRC of what was sent.
/// </summary>
public sealed class UploadPartIntegrityTests
{
    private const string Bucket = "parts";

    private static async Task<(OriginSimulator Sim, S3ObjectStore Store)> StartAsync(bool crcHeader, bool? signPayload = null)
    {
        var settings = new SimulatorSettings { Crc64Header = crcHeader, MinPartSize = 0 };
        var sim = await OriginSimulator.StartNewAsync(settings, Bucket);
        var store = new S3ObjectStore(new S3StoreOptions
        {
            Endpoint = sim.Endpoint.ToString(),
            AccessKeyId = "sim",
            AccessKeySecret = "sim-secret",
            SignPayload = signPayload,
            BaseDelay = TimeSpan.FromMilliseconds(5),
            MaxDelay = TimeSpan.FromMilliseconds(50),
        });
        return (sim, store);
    }

    private static byte[][] Parts(int count, int size)
    {
        var parts = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            parts[i] = new byte[size];
            new Random(i + 1).NextBytes(parts[i]);
        }
        return parts;
    }

    private static async Task<byte[]> UploadAsync(S3ObjectStore store, string key, byte[][] parts)
    {
        string upload = await store.InitiateMultipartAsync(Bucket, key);
        var done = new List<UploadedPart>();
        for (int i = 0; i < parts.Length; i++)
            done.Add(await store.UploadPartAsync(Bucket, key, upload, i + 1, parts[i]));
        await store.CompleteMultipartAsync(Bucket, key, upload, done);
        return [.. parts.SelectMany(p => p)];
    }

    [Fact]
    public async Task OriginReportingPartCrc_FirstPartSignedThenUnsigned_ObjectIntact()
    {
        var (sim, store) = await StartAsync(crcHeader: true);
        await using var _ = sim;
        using var __ = store;

        var expected = await UploadAsync(store, "ckpt/a.bin", Parts(4, 64 * 1024));

        Assert.Equal(4, sim.Counters.UploadParts);
        // Part 1 went signed; its answer carried the part's CRC-64, so parts 2-4 went unsigned and were checked by CRC.
        Assert.Equal(3, sim.Counters.UnsignedPayloads);
        Assert.Equal(expected, sim.GetObjectBytes(Bucket, "ckpt/a.bin"));
        // The completed object's CRC-64, as the origin reports it, is that of its bytes.
        Assert.Equal(Crc64Xz.Compute(expected), (await store.HeadAsync(Bucket, "ckpt/a.bin")).Crc64);
    }

    [Fact]
    public async Task OriginReportingPartCrc_PartDamagedOnTheWay_SentAgainAndObjectIntact()
    {
        var (sim, store) = await StartAsync(crcHeader: true);
        await using var _ = sim;
        using var __ = store;
        var parts = Parts(3, 64 * 1024);
        string upload = await store.InitiateMultipartAsync(Bucket, "ckpt/b.bin");
        var done = new List<UploadedPart> { await store.UploadPartAsync(Bucket, "ckpt/b.bin", upload, 1, parts[0]) };

        sim.Faults.CorruptUploadedPart(1);
        done.Add(await store.UploadPartAsync(Bucket, "ckpt/b.bin", upload, 2, parts[1]));
        done.Add(await store.UploadPartAsync(Bucket, "ckpt/b.bin", upload, 3, parts[2]));
        await store.CompleteMultipartAsync(Bucket, "ckpt/b.bin", upload, done);

        Assert.Equal(1, sim.Counters.FaultsInjected);
        // The damaged attempt of part 2 was noticed by its CRC and sent again.
        Assert.Equal(4, sim.Counters.UploadParts);
        Assert.Equal(parts.SelectMany(p => p).ToArray(), sim.GetObjectBytes(Bucket, "ckpt/b.bin"));
    }

    [Fact]
    public async Task OriginReportingPartCrc_EveryAttemptDamaged_FailsNamingThePart()
    {
        var (sim, store) = await StartAsync(crcHeader: true);
        await using var _ = sim;
        using var __ = store;
        var parts = Parts(2, 64 * 1024);
        string upload = await store.InitiateMultipartAsync(Bucket, "ckpt/c.bin");
        await store.UploadPartAsync(Bucket, "ckpt/c.bin", upload, 1, parts[0]);

        sim.Faults.CorruptUploadedPart(100);
        var ex = await Assert.ThrowsAsync<OriginUnavailableException>(() => store.UploadPartAsync(Bucket, "ckpt/c.bin", upload, 2, parts[1]));
        Assert.Contains("part 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("changed on the way", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginWithoutPartCrc_EveryPartSigned()
    {
        var (sim, store) = await StartAsync(crcHeader: false);
        await using var _ = sim;
        using var __ = store;

        var expected = await UploadAsync(store, "ckpt/d.bin", Parts(3, 64 * 1024));

        Assert.Equal(0, sim.Counters.UnsignedPayloads);
        Assert.Equal(expected, sim.GetObjectBytes(Bucket, "ckpt/d.bin"));
    }

    [Fact]
    public async Task SignPayloadTrue_SignsEvenWhenTheOriginReportsCrc()
    {
        var (sim, store) = await StartAsync(crcHeader: true, signPayload: true);
        await using var _ = sim;
        using var __ = store;

        await UploadAsync(store, "ckpt/e.bin", Parts(3, 64 * 1024));

        Assert.Equal(0, sim.Counters.UnsignedPayloads);
    }

    [Fact]
    public async Task SignPayloadFalse_NothingSignedAndCrcStillChecked()
    {
        var (sim, store) = await StartAsync(crcHeader: true, signPayload: false);
        await using var _ = sim;
        using var __ = store;
        var parts = Parts(2, 64 * 1024);

        sim.Faults.CorruptUploadedPart(1);
        var expected = await UploadAsync(store, "ckpt/f.bin", parts);

        Assert.Equal(3, sim.Counters.UnsignedPayloads);
        Assert.Equal(expected, sim.GetObjectBytes(Bucket, "ckpt/f.bin"));
    }
}
