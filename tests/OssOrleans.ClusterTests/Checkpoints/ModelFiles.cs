using System.Buffers.Binary;
using System.Text;

namespace OssOrleans.ClusterTests.Checkpoints;

/// <summary>Model files written byte by byte by the tests (no Python, no exporter): an ONNX graph and a safetensors file.</summary>
internal static class ModelFiles
{
    /// <summary>
    /// An ONNX model computing Y = X + B for float vectors of <paramref name="n"/> elements, where B (an initializer stored
    /// in the file) is <c>B[i] = i * 0.5</c>. Serialized protobuf of ModelProto (IR version 8, opset 13).
    /// </summary>
    public static byte[] OnnxAddModel(int n)
    {
        var b = new byte[n * 4];
        for (int i = 0; i < n; i++)
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), i * 0.5f);

        byte[] tensorType = Message(w => { w.Varint(1, 1); w.Bytes(2, Message(s => s.Bytes(1, Message(d => d.Varint(1, n))))); });
        byte[] type = Message(w => w.Bytes(1, tensorType));
        byte[] ValueInfo(string name) => Message(w => { w.String(1, name); w.Bytes(2, type); });

        byte[] node = Message(w => { w.String(1, "X"); w.String(1, "B"); w.String(2, "Y"); w.String(3, "add"); w.String(4, "Add"); });
        byte[] initializer = Message(w => { w.Varint(1, n); w.Varint(2, 1); w.String(8, "B"); w.Bytes(9, b); });
        byte[] graph = Message(w =>
        {
            w.Bytes(1, node);
            w.String(2, "add-graph");
            w.Bytes(5, initializer);
            w.Bytes(11, ValueInfo("X"));
            w.Bytes(12, ValueInfo("Y"));
        });
        byte[] opset = Message(w => { w.String(1, ""); w.Varint(2, 13); });
        return Message(w =>
        {
            w.Varint(1, 8);
            w.String(2, "ossorleans-tests");
            w.Bytes(7, graph);
            w.Bytes(8, opset);
        });
    }

    /// <summary>
    /// A safetensors file: 8-byte little-endian header length, a JSON header padded with spaces to 8 bytes, then the data.
    /// Tensors: "bias" F32 [3] = {1.5, -2, 3.25}; "weight" F32 [rows, 4] with weight[r][c] = r * 4 + c.
    /// </summary>
    public static byte[] Safetensors(int rows)
    {
        int biasBytes = 12, weightBytes = rows * 4 * 4;
        string json = $$$"""{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[3],"data_offsets":[0,{{{biasBytes}}}]},"weight":{"dtype":"F32","shape":[{{{rows}}},4],"data_offsets":[{{{biasBytes}}},{{{biasBytes + weightBytes}}}]}}""";
        int headerLength = (json.Length + 7) / 8 * 8;
        var file = new byte[8 + headerLength + biasBytes + weightBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerLength);
        file.AsSpan(8, headerLength).Fill((byte)' ');
        Encoding.UTF8.GetBytes(json, file.AsSpan(8));
        var data = file.AsSpan(8 + headerLength);
        float[] bias = [1.5f, -2f, 3.25f];
        for (int i = 0; i < 3; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], bias[i]);
        for (int i = 0; i < rows * 4; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data[(biasBytes + i * 4)..], i);
        return file;
    }

    private static byte[] Message(Action<ProtoWriter> build)
    {
        var w = new ProtoWriter();
        build(w);
        return w.ToArray();
    }

    private sealed class ProtoWriter
    {
        private readonly MemoryStream _out = new();

        public void Varint(int field, long value)
        {
            Raw((ulong)(field << 3));
            Raw((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, byte[] value)
        {
            Raw((ulong)((field << 3) | 2));
            Raw((ulong)value.Length);
            _out.Write(value);
        }

        public byte[] ToArray() => _out.ToArray();

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _out.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _out.WriteByte((byte)v);
        }
    }
}
