using Diffuse.IO;
using Xunit;

namespace Diffuse.Tests.IO;

/// <summary>What a save killed half-way leaves beside its target is removed at the next save, never a live writer's.</summary>
public class LeftoversTests
{
    /// <summary>A process id above Linux's largest (4,194,304): never a running process.</summary>
    const int DeadProcess = 999_999_999;

    [Fact]
    public void TheNextStagedSaveRemovesTheStagingFoldersOfDeadProcessesOnly()
    {
        using var folder = new TempFolder();
        var dead = folder.File($".model.staging-{DeadProcess}-{Guid.NewGuid():N}");
        var old = folder.File($".model.staging-{Guid.NewGuid():N}");
        var live = folder.File($".model.staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var recent = folder.File($".model.staging-{Guid.NewGuid():N}b");
        var other = folder.File($".other.staging-{DeadProcess}-{Guid.NewGuid():N}");
        foreach (var d in new[] { dead, old, live, recent, other })
        {
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "weights"), "half");
        }
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow - Leftovers.UnownedAge - TimeSpan.FromMinutes(1));

        StagedDirectory.Commit(folder.File("model"), staging => File.WriteAllText(Path.Combine(staging, "config.json"), "{}"));

        Assert.True(File.Exists(folder.File("model/config.json")));
        Assert.False(Directory.Exists(dead));
        Assert.False(Directory.Exists(old));
        Assert.True(Directory.Exists(live), "a live process's staging folder was removed");
        Assert.True(Directory.Exists(recent), "a recent staging folder of unknown owner was removed");
        Assert.True(Directory.Exists(other), "another target's staging folder was removed");
    }

    [Fact]
    public void TheNextAtomicWriteRemovesTheTemporaryFilesOfDeadProcesses()
    {
        using var folder = new TempFolder();
        var dead = folder.File($".state.json.tmp-{DeadProcess}-{Guid.NewGuid():N}");
        var live = folder.File($".state.json.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(dead, "half");
        File.WriteAllText(live, "half");

        AtomicFile.WriteAllText(folder.File("state.json"), "{}");

        Assert.Equal("{}", File.ReadAllText(folder.File("state.json")));
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.Equal(2, Directory.GetFiles(folder.Path).Length);
    }
}
