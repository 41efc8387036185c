using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using Xunit;

namespace Diffuse.Tests.Training;

/// <summary>
/// Issue 20: a forced image run over a model never pairs its new config.json with the old weights; the old model is moved
/// aside until the run's first checkpoint, comes back when the run fails before it, and is gone after it.
/// </summary>
public class ForcedRunTests
{
    static string Data(TempFolder folder)
    {
        var data = folder.File("idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        return data;
    }

    static ImageTrainingOptions Options(string data, string outDir, int steps, double lr = 1e-3) =>
        new() { Data = data, OutDir = outDir, Template = ImageTrainingTests.TinyTemplate(steps, lr), ValidationImages = 4 };

    static Dictionary<string, byte[]> Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    sealed class ThrowingProgress : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => throw new DiffuseException("stopped by the test");
    }

    [Fact]
    public void AForcedRunThatFailsBeforeItsFirstCheckpointPutsTheOldModelBack()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        var dir = folder.File("run");
        ImageTraining.Run(Options(data, dir, 2));
        var before = Files(dir);

        var said = new List<string>();
        var error = Assert.Throws<DiffuseException>(() => ImageTraining.Run(Options(data, dir, 5, lr: 5e-4) with { Force = true }, new ThrowingProgress(), said.Add));

        Assert.Equal("stopped by the test", error.Message);
        Assert.Contains(said, line => line.Contains("moved the model") && line.Contains(ModelDirectory.AsidePrefix));
        Assert.Equal(before, Files(dir));
        Assert.Empty(ModelDirectory.AsideFolders(dir));
    }

    [Fact]
    public void AForcedRunReplacesTheModelAndLeavesNothingAside()
    {
        using var folder = new TempFolder();
        var data = Data(folder);
        var dir = folder.File("run");
        ImageTraining.Run(Options(data, dir, 2));
        var old = File.ReadAllBytes(Path.Combine(dir, ModelDirectory.ModelFile));

        var outcome = ImageTraining.Run(Options(data, dir, 3, lr: 5e-4) with { Force = true });

        Assert.Equal(3, outcome.EndStep);
        Assert.NotEqual(old, File.ReadAllBytes(Path.Combine(dir, ModelDirectory.ModelFile)));
        Assert.Empty(ModelDirectory.AsideFolders(dir));
        Assert.Equal(3, TrainCheckpoint.StepOf(ImageTraining.CheckpointPath(dir)));
        using var model = ImageModel.Load(dir);
        Assert.Equal(3, model.Config.Training.Steps);
    }

    [Fact]
    public void AsideTheWeightsGoFirstAndComeBackBeforeTheConfig()
    {
        using var folder = new TempFolder();
        var dir = folder.File("run");
        Directory.CreateDirectory(Path.Combine(dir, "train_state"));
        foreach (var name in new[] { ModelDirectory.ConfigFile, ModelDirectory.ModelFile, ModelDirectory.EmaFile, "train_state/checkpoint.safetensors" })
            File.WriteAllText(Path.Combine(dir, name), name);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");

        var aside = ModelDirectory.MoveModelAside(dir)!;

        Assert.Equal(["notes.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
        Assert.False(ModelDirectory.HoldsModel(dir));
        File.WriteAllText(Path.Combine(dir, ModelDirectory.ConfigFile), "new");
        ModelDirectory.RestoreAside(dir, aside);
        Assert.Equal(ModelDirectory.ConfigFile, File.ReadAllText(Path.Combine(dir, ModelDirectory.ConfigFile)));
        Assert.Equal(ModelDirectory.ModelFile, File.ReadAllText(Path.Combine(dir, ModelDirectory.ModelFile)));
        Assert.Empty(ModelDirectory.AsideFolders(dir));
        Assert.Null(ModelDirectory.MoveModelAside(folder.File("nothing")));
    }
}
