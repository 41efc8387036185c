using Diffuse.IO;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.IO;

/// <summary>Issue 20: --force never deletes what Diffuse did not write (OutputFolder, LabelledImageFolder).</summary>
public class OutputFolderTests
{
    static readonly string[] Names = ["a", "b"];

    static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    static long[] Write(string folder, bool force, IEnumerable<string>? protect = null)
    {
        using var images = zeros(4, 1, 8, 8);
        return LabelledImageFolder.Write(folder, images, [0, 1, 0, 1], Names, force, protect);
    }

    /// <summary>A folder that looks like a model folder written by a training run.</summary>
    static void WriteModelFolder(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, ModelDirectory.ConfigFile), """{"format": "diffuse-model", "version": 1}""");
        File.WriteAllText(Path.Combine(dir, ModelDirectory.ModelFile), "weights");
    }

    [Fact]
    public void ForceRefusesAFolderHoldingTheModelAndOtherFilesAndLeavesItAsItWas()
    {
        using var folder = new TempFolder();
        var parent = folder.File("P");
        WriteModelFolder(Path.Combine(parent, "model"));
        File.WriteAllText(Path.Combine(parent, "notes.txt"), "keep me");
        var before = Snapshot(parent);

        var error = Assert.Throws<DiffuseException>(() => Write(parent, force: true, protect: [Path.Combine(parent, "model")]));
        Assert.Contains("which this command reads", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        // Without being told which model is read, the model folder inside still stops it.
        Assert.Contains("holds a model folder", Assert.Throws<DiffuseException>(() => Write(parent, force: true)).Message);
        Assert.Equal(before, Snapshot(parent));
        Assert.Equal(["P"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void ForceRefusesAFolderOfFilesDiffuseDidNotWrite()
    {
        using var folder = new TempFolder();
        var mine = folder.File("mine");
        Directory.CreateDirectory(Path.Combine(mine, "cats"));
        File.WriteAllText(Path.Combine(mine, "cats", "tabby.png"), "a photo");
        File.WriteAllText(Path.Combine(mine, "todo.txt"), "x");
        var before = Snapshot(mine);

        var error = Assert.Throws<DiffuseException>(() => Write(mine, force: true));
        Assert.Contains("Diffuse did not write", error.Message);
        Assert.Contains(OutputFolder.MarkerFile, error.Message);
        Assert.Equal(before, Snapshot(mine));
        // A dataset of the user's own class folders of PNGs is not an export either.
        File.Delete(Path.Combine(mine, "todo.txt"));
        Assert.Throws<DiffuseException>(() => Write(mine, force: true));
    }

    [Fact]
    public void TheWorkingFolderAndTheFoldersAboveItAreNeverReplaced()
    {
        // CheckTarget only (never Write): a regression here must not empty the test's own folder.
        var cwd = Environment.CurrentDirectory;
        foreach (var target in new[] { cwd, ".", Path.GetDirectoryName(cwd)! })
        {
            var error = Assert.Throws<DiffuseException>(() => LabelledImageFolder.CheckTarget(target, force: true));
            Assert.Contains("working folder", error.Message);
        }
    }

    [Fact]
    public void AFolderDiffuseWroteIsMarkedAndReplacedWithForce()
    {
        using var folder = new TempFolder();
        var synth = folder.File("synth");
        Assert.Equal([2L, 2L], Write(synth, force: false));
        Assert.True(File.Exists(Path.Combine(synth, OutputFolder.MarkerFile)));
        Assert.Contains("not empty", Assert.Throws<DiffuseException>(() => Write(synth, force: false)).Message);

        Write(synth, force: true);
        Assert.True(File.Exists(Path.Combine(synth, OutputFolder.MarkerFile)));
        Assert.Equal(["a", "b"], Directory.GetDirectories(synth).Select(Path.GetFileName).Order());
        Assert.Equal(["synth"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void OlderDiffuseOutputsWithoutTheMarkerAreRecognised()
    {
        using var folder = new TempFolder();
        // An export written before the marker: class folders of numbered PNGs only.
        var export = folder.File("export");
        Write(export, force: false);
        File.Delete(Path.Combine(export, OutputFolder.MarkerFile));
        Write(export, force: true);

        // A model folder (config.json of format diffuse-model and a run's files only) may be replaced with --force too.
        var model = folder.File("model");
        WriteModelFolder(model);
        Directory.CreateDirectory(Path.Combine(model, "train_state"));
        LabelledImageFolder.CheckTarget(model, force: true);
        // ... but not once it holds something else.
        File.WriteAllText(Path.Combine(model, "notes.txt"), "mine");
        Assert.Throws<DiffuseException>(() => LabelledImageFolder.CheckTarget(model, force: true));
    }

    [Fact]
    public void AnEmptyFolderIsFilledWithoutForce()
    {
        using var folder = new TempFolder();
        var empty = folder.File("empty");
        Directory.CreateDirectory(empty);
        Write(empty, force: false);
        Assert.Equal(["a", "b"], Directory.GetDirectories(empty).Select(Path.GetFileName).Order());
    }
}
