using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace OssOrleans.ClusterTests.Checkpoints;

/// <summary>A real framework loads what PrepareDirectoryAsync materialized.</summary>
[Collection(CheckpointCollection.Name)]
public sealed class ModelLoadTests(CheckpointFixture fixture) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ossorleans-model-" + Guid.NewGuid().ToString("N"));

    private TestCacheCluster C => fixture.Cluster;

    [Fact]
    public async Task PreparedOnnxModel_LoadsInOnnxRuntime_AndRunsInference()
    {
        // 1M floats of weights: the model file spans several 1 MiB shards, written in place from parallel fetches.
        const int n = 1 << 20;
        C.Origin.PutObject(TestCacheCluster.Bucket, "onnx/add/model.onnx", ModelFiles.OnnxAddModel(n));
        C.Origin.PutObject(TestCacheCluster.Bucket, "onnx/add/README.txt", "Y = X + B"u8.ToArray());

        await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("onnx/add"), _dir);

        using var session = new InferenceSession(Path.Combine(_dir, "model.onnx"));
        var x = new DenseTensor<float>(Enumerable.Range(0, n).Select(i => (float)(i % 7)).ToArray(), [n]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("X", x)]);
        var y = results.Single(r => r.Name == "Y").AsTensor<float>();
        foreach (int i in new[] { 0, 1, 6, 7, 12345, n - 1 })
            Assert.Equal((i % 7) + i * 0.5f, y.GetValue(i));
    }

    [Fact]
    public async Task PreparedSafetensors_HeaderAndTensorsParse()
    {
        const int rows = 300_000; // about 4.6 MiB: several shards
        C.Origin.PutObject(TestCacheCluster.Bucket, "st/m/model.safetensors", ModelFiles.Safetensors(rows));

        await C.Client.PrepareDirectoryAsync(TestCacheCluster.Uri("st/m"), _dir);

        var file = await File.ReadAllBytesAsync(Path.Combine(_dir, "model.safetensors"));
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var weight = header.RootElement.GetProperty("weight");
        Assert.Equal("F32", weight.GetProperty("dtype").GetString());
        Assert.Equal([rows, 4], weight.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var offsets = weight.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var data = file.AsSpan(8 + (int)headerLength);
        Assert.Equal(data.Length, offsets[1]);

        var bias = header.RootElement.GetProperty("bias").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal([1.5f, -2f, 3.25f], Floats(data[bias[0]..bias[1]]));
        var w = Floats(data[(int)offsets[0]..(int)offsets[1]]);
        Assert.Equal(rows * 4, w.Length);
        foreach (int r in new[] { 0, 1, rows / 2, rows - 1 })
            Assert.Equal(r * 4 + 3f, w[r * 4 + 3]);
    }

    private static float[] Floats(ReadOnlySpan<byte> bytes)
    {
        var f = new float[bytes.Length / 4];
        for (int i = 0; i < f.Length; i++)
            f[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
        return f;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
