using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Diffuse.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.IO;

public class SafeTensorsTests
{
    public static TheoryData<ScalarType> AllDtypes => new()
    {
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    };

    [Theory]
    [MemberData(nameof(AllDtypes))]
    public void EveryDtypeRoundTripsBitForBit(ScalarType dtype)
    {
        using var folder = new TempFolder();
        var path = folder.File("t.safetensors");
        using var original = FromBytes(new long[] { 3, 7 }, dtype, out var bytes);

        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["x"] = original });
        using var file = SafeTensors.Read(path);

        var read = file.Tensors["x"];
        Assert.Equal(dtype, read.dtype);
        Assert.Equal(new long[] { 3, 7 }, read.shape);
        Assert.Equal(bytes, read.bytes.ToArray());
    }

    [Fact]
    public void SpecialFloatValuesKeepTheirBits()
    {
        using var folder = new TempFolder();
        var path = folder.File("f.safetensors");
        float[] values =
        {
            float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_1234), float.PositiveInfinity,
            float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue,
        };
        using var original = torch.tensor(values);

        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["f"] = original });
        using var file = SafeTensors.Read(path);

        var read = file.Tensors["f"].data<float>().ToArray();
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), read.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void AScalarAnEmptyTensorAndANonContiguousTensorRoundTrip()
    {
        using var folder = new TempFolder();
        var path = folder.File("s.safetensors");
        using var scalar = torch.tensor(3.25);
        using var emptyTensor = torch.zeros(0, 3, dtype: ScalarType.Int32);
        using var matrix = torch.arange(6, dtype: ScalarType.Int64).reshape(2, 3);
        using var transposed = matrix.t();

        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["scalar"] = scalar, ["empty"] = emptyTensor, ["t"] = transposed });
        using var file = SafeTensors.Read(path);

        Assert.Empty(file.Tensors["scalar"].shape);
        Assert.Equal(3.25, file.Tensors["scalar"].item<double>());
        Assert.Equal(new long[] { 0, 3 }, file.Tensors["empty"].shape);
        Assert.Equal(ScalarType.Int32, file.Tensors["empty"].dtype);
        Assert.Equal(new long[] { 3, 2 }, file.Tensors["t"].shape);
        Assert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, file.Tensors["t"].data<long>().ToArray());
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["step"] = "1200", ["note"] = "ünïcode \"quoted\"\n", ["empty"] = "" };
        using var x = torch.ones(2);

        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["x"] = x }, metadata);
        using var file = SafeTensors.Read(path);

        Assert.Equal(metadata.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void AFileWithNoTensorsRoundTrips()
    {
        using var folder = new TempFolder();
        var path = folder.File("e.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor>());
        using var file = SafeTensors.Read(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void OurFilesHaveTheDocumentedByteLayout()
    {
        using var folder = new TempFolder();
        var path = folder.File("layout.safetensors");
        using var b = torch.tensor(new[] { 1f, 2f });
        using var a = torch.tensor(new[] { 7L });
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["b"] = b, ["a"] = a }, new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8);
        Assert.Equal(8 + n + 16, bytes.Length);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.Matches("^[^ ]*} *$", header);

        using var json = JsonDocument.Parse(header);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(new[] { "__metadata__", "a", "b" }, names);
        Assert.Equal("pt", json.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        var entryA = json.RootElement.GetProperty("a");
        Assert.Equal("I64", entryA.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 1L }, entryA.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { 0L, 8L }, entryA.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        var entryB = json.RootElement.GetProperty("b");
        Assert.Equal("F32", entryB.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 8L, 16L }, entryB.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));

        var data = bytes.AsSpan((int)(8 + n));
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(data));
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(data[8..]));
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(data[12..]));
    }

    [Fact]
    public void AGoldenFileBuiltByHandReads()
    {
        using var folder = new TempFolder();
        var path = folder.File("golden.safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes.Build(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0));

        using var file = SafeTensors.Read(path);

        var a = Assert.Single(file.Tensors).Value;
        Assert.Equal(ScalarType.Float32, a.dtype);
        Assert.Equal(new long[] { 2 }, a.shape);
        Assert.Equal(new[] { 1f, -2f }, a.data<float>().ToArray());
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void AGoldenFileWithHalfBfloatBoolMetadataAndPaddingReads()
    {
        using var folder = new TempFolder();
        var path = folder.File("golden2.safetensors");
        // Entries out of offset order, metadata last, trailing spaces: all allowed by the format.
        File.WriteAllBytes(path, SafeTensorsBytes.Build(
            """{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[6,8]},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},"__metadata__":{"format":"pt"}}    """,
            0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x01, 0x00));

        using var file = SafeTensors.Read(path);

        Assert.Equal(new[] { "h", "b", "m" }, file.Tensors.Keys);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(ScalarType.Float16, file.Tensors["h"].dtype);
        using var h = file.Tensors["h"].to(ScalarType.Float32);
        Assert.Equal(new[] { 1f, -2f }, h.data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, file.Tensors["b"].dtype);
        Assert.Equal(new long[] { 1, 1 }, file.Tensors["b"].shape);
        Assert.Equal(1f, file.Tensors["b"].to(ScalarType.Float32).item<float>());
        Assert.Equal(new[] { true, false }, file.Tensors["m"].data<bool>().ToArray());
    }

    [Fact]
    public void DisposingTheFileDisposesItsTensors()
    {
        using var folder = new TempFolder();
        var path = folder.File("d.safetensors");
        using var x = torch.ones(2);
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["x"] = x });
        var file = SafeTensors.Read(path);
        var read = file.Tensors["x"];
        file.Dispose();
        Assert.True(read.IsInvalid);
    }

    [Fact]
    public void WritingATensorNamedLikeTheMetadataIsRefused()
    {
        using var folder = new TempFolder();
        using var x = torch.ones(1);
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(folder.File("x.safetensors"), new Dictionary<string, Tensor> { ["__metadata__"] = x }));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    /// <summary>A tensor whose bytes are random but include, for floating types, NaNs with payloads, infinities, -0 and subnormals.</summary>
    static Tensor FromBytes(long[] shape, ScalarType dtype, out byte[] bytes)
    {
        var t = torch.empty(shape, dtype);
        bytes = new byte[t.numel() * t.ElementSize];
        var random = new Random(42);
        random.NextBytes(bytes);
        byte[] special = dtype switch
        {
            ScalarType.Float32 => Words(4, 0x7FC00000, 0x7FA00001, 0xFFC01234, 0x7F800000, 0xFF800000, 0x80000000, 0x00000001),
            ScalarType.Float64 => Words(8, 0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8000000001234, 0x7FF0000000000000, 0xFFF0000000000000, 0x8000000000000000, 1),
            ScalarType.Float16 => Words(2, 0x7E00, 0x7C01, 0xFE12, 0x7C00, 0xFC00, 0x8000, 0x0001),
            ScalarType.BFloat16 => Words(2, 0x7FC0, 0x7F81, 0xFFC1, 0x7F80, 0xFF80, 0x8000, 0x0001),
            _ => Array.Empty<byte>(),
        };
        special.CopyTo(bytes, 0);
        if (dtype == ScalarType.Bool)
            for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        t.bytes = bytes;
        return t;
    }

    static byte[] Words(int size, params ulong[] words)
    {
        var bytes = new byte[size * words.Length];
        for (var i = 0; i < words.Length; i++)
            for (var j = 0; j < size; j++) bytes[i * size + j] = (byte)(words[i] >> (8 * j));
        return bytes;
    }
}
