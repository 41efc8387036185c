using Diffuse.IO;
using Xunit;

namespace Diffuse.Tests.IO;

public class IdxFileTests
{
    [Fact]
    public void WriteThenReadRoundTripsDimensionsAndValues()
    {
        using var folder = new TempFolder();
        var path = folder.File("x-idx3-ubyte");
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        IdxFile.WriteFile(path, [2, 3, 4], values);

        var read = IdxFile.Read(path, expectedRank: 3);
        Assert.Equal(new[] { 2, 3, 4 }, read.Dimensions);
        Assert.Equal(values, read.Values);
        Assert.Equal(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2 }, File.ReadAllBytes(path)[..8]);
    }

    [Fact]
    public void GzippedFilesAreReadTransparently()
    {
        using var folder = new TempFolder();
        var path = folder.File("labels-idx1-ubyte.gz");
        using (var file = File.Create(path))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
            IdxFile.Write(gzip, [3], new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, IdxFile.Read(path, 1).Values);
    }

    [Fact]
    public void ATruncatedFileIsAOneLineErrorNamingIt()
    {
        using var folder = new TempFolder();
        var path = folder.File("train-images-idx3-ubyte");
        IdxFile.WriteFile(path, [10, 28, 28], new byte[10 * 28 * 28]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);

        var e = Assert.Throws<DiffuseException>(() => IdxFile.Read(path, 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ABadMagicNumberOrRankIsRejected()
    {
        using var folder = new TempFolder();
        var bad = folder.File("bad");
        File.WriteAllBytes(bad, new byte[] { 0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 0 });
        Assert.Contains("magic", Assert.Throws<DiffuseException>(() => IdxFile.Read(bad)).Message);

        var labels = folder.File("labels");
        IdxFile.WriteFile(labels, [4], new byte[4]);
        Assert.Contains("1 dimensions; expected 3", Assert.Throws<DiffuseException>(() => IdxFile.Read(labels, 3)).Message);
    }
}
