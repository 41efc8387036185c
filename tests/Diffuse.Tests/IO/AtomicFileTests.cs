using Diffuse.IO;
using Xunit;

namespace Diffuse.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void WriteReplacesTheFileAndLeavesNoTemporaryFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("a.txt");
        AtomicFile.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new ü");

        Assert.Equal("new ü", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void WriteAllBytesWritesTheBytes()
    {
        using var folder = new TempFolder();
        var path = folder.File("b.bin");
        AtomicFile.WriteAllBytes(path, new byte[] { 0, 1, 255 });
        Assert.Equal(new byte[] { 0, 1, 255 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void AWriterThatThrowsLeavesTheOldFileIntactAndNoTemporaryFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("model.safetensors");
        File.WriteAllText(path, "old content");

        var thrown = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            stream.Flush();
            throw new InvalidOperationException("disk on fire");
        }));

        Assert.Equal("disk on fire", thrown.Message);
        Assert.Equal("old content", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void AWriterThatThrowsBeforeTheFirstWriteCreatesNothing()
    {
        using var folder = new TempFolder();
        var path = folder.File("new.bin");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("no")));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}
