using System.Buffers.Binary;
using Diffuse.IO;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.IO;

public class SafeTensorsValidationTests
{
    const string F32Pair = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";

    public static TheoryData<string, int, string> BadHeaders => new()
    {
        { """{"a":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}}""", 8, "unknown dtype 'F8'" },
        { """{"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}""", 8, "unknown dtype '32'" },
        { """{"a":{"shape":[2],"data_offsets":[0,8]}}""", 8, "'a' has no dtype" },
        { """{"a":{"dtype":"F32","data_offsets":[0,8]}}""", 8, "'a' has no shape" },
        { """{"a":{"dtype":"F32","shape":[2]}}""", 8, "'a' has no data_offsets" },
        { """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "has shape [-2]" },
        { """{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", 8, "has shape [2.5]" },
        { """{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}""", 8, "has shape 2" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "end before they begin" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8, "not [begin, end]" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}""", 8, "not [begin, end]" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "needs 8 bytes" },
        { """{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "too large" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8, "is truncated: header says 16 bytes of tensor data but the file has 8" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "is truncated: header says 8 bytes of tensor data but the file has 4" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "tensors 'a' and 'b' overlap" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "overlap" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "no tensor holds data bytes [4, 8]" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "no tensor holds data bytes [0, 4]" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12, "4 bytes follow the last tensor's data" },
        { """{}""", 4, "4 bytes follow the last tensor's data" },
        { """{"__metadata__":{"k":1}}""", 0, "metadata 'k' is a number, not a string" },
        { """{"__metadata__":["k"]}""", 0, "not an object of strings" },
        { """{"a":3}""", 0, "tensor 'a' is not an object" },
        { """{"a":""" + F32Pair + ""","a":""" + F32Pair + "}", 8, "names 'a' twice" },
        { """[{"a":1}]""", 0, "does not start with '{'" },
        { """ {}""", 0, "does not start with '{'" },
        { """{"a":{"dtype":"F32",""", 0, "not valid JSON" },
        { """{"a":1}}""", 0, "not valid JSON" },
        { """{"m":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}""", 1, "holds a byte other than 0 or 1" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void ABadHeaderIsAOneLineErrorNamingTheFile(string header, int dataBytes, string expected)
    {
        using var folder = new TempFolder();
        var path = folder.File("bad.safetensors");
        var data = Enumerable.Repeat((byte)2, dataBytes).ToArray();
        File.WriteAllBytes(path, SafeTensorsBytes.Build(System.Text.Encoding.UTF8.GetBytes(header), data));

        var error = ReadFails(path);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AHeaderThatIsNotUtf8IsRefused()
    {
        using var folder = new TempFolder();
        var path = folder.File("bad.safetensors");
        var header = "{\"a?\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"u8.ToArray();
        header[3] = 0xFF;
        File.WriteAllBytes(path, SafeTensorsBytes.Build(header, Array.Empty<byte>()));
        Assert.Contains("not valid UTF-8", ReadFails(path).Message);
    }

    [Fact]
    public void AMissingFileIsAnError()
    {
        using var folder = new TempFolder();
        var path = folder.File("nothing.safetensors");
        Assert.Equal($"{path} does not exist", ReadFails(path).Message);
    }

    [Theory]
    [InlineData(0UL, 100, "the header length is 0")]
    [InlineData(200_000_000UL, 100, "over the limit")]
    [InlineData(ulong.MaxValue, 100, "over the limit")]
    [InlineData(93UL, 100, "is truncated: the header length is 93 bytes but only 92 bytes follow it")]
    public void ABadHeaderLengthIsRefusedBeforeAllocating(ulong length, int fileLength, string expected)
    {
        using var folder = new TempFolder();
        var path = folder.File("bad.safetensors");
        var bytes = Enumerable.Repeat((byte)' ', fileLength).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        File.WriteAllBytes(path, bytes);
        Assert.Contains(expected, ReadFails(path).Message);
    }

    [Fact]
    public void AGoodFileTruncatedAnywhereIsRefused()
    {
        using var folder = new TempFolder();
        var good = WriteGoodFile(folder);
        var bytes = File.ReadAllBytes(good);
        var path = folder.File("cut.safetensors");
        for (var length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(path, bytes[..length]);
            var error = ReadFails(path);
            Assert.Contains("is truncated", error.Message);
        }
    }

    [Fact]
    public void FlippingAnyByteOfTheLengthOrHeaderIsRefused()
    {
        using var folder = new TempFolder();
        var good = WriteGoodFile(folder);
        var bytes = File.ReadAllBytes(good);
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var path = folder.File("flipped.safetensors");
        for (var i = 0; i < headerEnd; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0xFF;
            File.WriteAllBytes(path, damaged);
            ReadFails(path);
        }
    }

    [Fact]
    public void TrailingBytesAfterAGoodFileAreRefused()
    {
        using var folder = new TempFolder();
        var good = WriteGoodFile(folder);
        File.AppendAllText(good, "x");
        Assert.Contains("1 bytes follow the last tensor's data", ReadFails(good).Message);
    }

    static string WriteGoodFile(TempFolder folder)
    {
        var path = folder.File("good.safetensors");
        using var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var b = ones(4, dtype: ScalarType.Int64);
        Diffuse.IO.SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, new Dictionary<string, string> { ["k"] = "v" });
        using (SafeTensors.Read(path)) { }
        return path;
    }

    static DiffuseException ReadFails(string path)
    {
        var error = Assert.Throws<DiffuseException>(() => SafeTensors.Read(path).Dispose());
        Assert.Contains(path, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }
}
