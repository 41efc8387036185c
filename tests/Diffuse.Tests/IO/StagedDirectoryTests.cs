using Diffuse.IO;
using Xunit;

namespace Diffuse.Tests.IO;

public class StagedDirectoryTests
{
    static string[] Entries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(e => Path.GetRelativePath(folder, e)).OrderBy(e => e, StringComparer.Ordinal).ToArray();

    static void WriteModel(string dir, string tag)
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), $"config {tag}");
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), $"model {tag}");
        File.WriteAllText(Path.Combine(dir, "ema.safetensors"), $"ema {tag}");
    }

    [Fact]
    public void AFreshTargetGetsAllFilesAndNoStagingFolderRemains()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");

        StagedDirectory.Commit(target, staging =>
        {
            Assert.NotEqual(Path.GetFullPath(target), Path.GetFullPath(staging));
            Assert.Equal(folder.Path, Path.GetDirectoryName(staging));
            WriteModel(staging, "new");
        });

        Assert.Equal(["model"], Entries(folder.Path).Where(e => !e.Contains(Path.DirectorySeparatorChar)));
        Assert.Equal(["config.json", "ema.safetensors", "model.safetensors"], Entries(target));
        Assert.Equal("config new", File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("model new", File.ReadAllText(Path.Combine(target, "model.safetensors")));
    }

    [Fact]
    public void AnEmptyExistingTargetIsFilled()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");
        Directory.CreateDirectory(target);

        StagedDirectory.Commit(target, staging => WriteModel(staging, "new"));

        Assert.Equal(["config.json", "ema.safetensors", "model.safetensors"], Entries(target));
        Assert.Equal(["model", "model/config.json", "model/ema.safetensors", "model/model.safetensors"], Entries(folder.Path));
    }

    [Fact]
    public void AnExistingTargetsFilesAreReplacedAndOthersKept()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");
        Directory.CreateDirectory(target);
        WriteModel(target, "old");
        File.WriteAllText(Path.Combine(target, "notes.txt"), "mine");

        StagedDirectory.Commit(target, staging => WriteModel(staging, "new"));

        Assert.Equal(["config.json", "ema.safetensors", "model.safetensors", "notes.txt"], Entries(target));
        Assert.Equal("config new", File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("model new", File.ReadAllText(Path.Combine(target, "model.safetensors")));
        Assert.Equal("ema new", File.ReadAllText(Path.Combine(target, "ema.safetensors")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(target, "notes.txt")));
        Assert.Equal(["model"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void ConfigJsonIsMovedLast()
    {
        // "config.json" sorts between "a.safetensors" and "z.safetensors". A folder named z.safetensors
        // in the target makes the move of that file fail: if config.json had already been moved, the
        // target would claim to hold the new model while its weights are old.
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "config.json"), "config old");
        File.WriteAllText(Path.Combine(target, "a.safetensors"), "a old");
        Directory.CreateDirectory(Path.Combine(target, "z.safetensors"));

        Assert.ThrowsAny<IOException>(() => StagedDirectory.Commit(target, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "config.json"), "config new");
            File.WriteAllText(Path.Combine(staging, "a.safetensors"), "a new");
            File.WriteAllText(Path.Combine(staging, "z.safetensors"), "z new");
        }));

        Assert.Equal("config old", File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal(["model"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AWriterThatThrowsLeavesTheExistingFolderUntouchedAndNoStagingFolder()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");
        Directory.CreateDirectory(target);
        WriteModel(target, "old");
        var before = Entries(target).ToDictionary(e => e, e => File.ReadAllBytes(Path.Combine(target, e)));

        var error = Assert.Throws<InvalidOperationException>(() => StagedDirectory.Commit(target, staging =>
        {
            WriteModel(staging, "new");
            throw new InvalidOperationException("writer failed");
        }));

        Assert.Equal("writer failed", error.Message);
        Assert.Equal(before.Keys.OrderBy(k => k, StringComparer.Ordinal), Entries(target));
        foreach (var (name, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(target, name)));
        Assert.Equal(["model"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AWriterThatThrowsCreatesNoFreshTarget()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "model");

        Assert.Throws<DiffuseException>(() => StagedDirectory.Commit(target, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "model.safetensors"), "partial");
            throw new DiffuseException("stop");
        }));

        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}
