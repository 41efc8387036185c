using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using Xunit;

namespace Diffuse.Tests.Training;

/// <summary>Image runs of continuous-time SDE models: validation, predictor-corrector grids, checkpoints and exact resume.</summary>
public class SdeImageTrainingTests
{
    static ImageTrainingOptions Options(string data, string outDir, int steps, SdeType type)
    {
        var template = ImageTrainingTests.TinyTemplate(steps);
        // N = 4 keeps the predictor-corrector grids cheap.
        template = template with
        {
            Sde = new SdeSpec { Type = type, DiscreteSteps = 4 },
            Training = template.Training with { SampleEvery = 2 },
        };
        return new() { Data = data, OutDir = outDir, Template = template, LogEvery = 2, ValidationImages = 8, GridImages = 4 };
    }

    static byte[] Weights(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    [Theory]
    [InlineData(SdeType.Ve)]
    [InlineData(SdeType.SubVp)]
    public void AnSdeRunValidatesWritesGridsAndResumesBitwise(SdeType type)
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        string straight = Path.Combine(folder.Path, "straight"), resumed = Path.Combine(folder.Path, "resumed");

        var one = ImageTraining.Run(Options(data, straight, 4, type));
        Assert.True(double.IsFinite(one.FinalLoss));
        Assert.True(one.ValidationLoss is { } v && double.IsFinite(v) && v > 0);
        Assert.True(File.Exists(Path.Combine(straight, ImageTraining.SamplesFolder, "step-000002.png")));
        Assert.True(File.Exists(Path.Combine(straight, ImageTraining.SamplesFolder, "step-000004.png")));

        ImageTraining.Run(Options(data, resumed, 4, type) with { StopAtStep = 2 });
        var second = ImageTraining.Run(new ImageTrainingOptions { OutDir = resumed, Resume = true, LogEvery = 2, ValidationImages = 8, GridImages = 4 });
        Assert.Equal(2, second.StartStep);
        Assert.Equal(one.ValidationLoss, second.ValidationLoss);
        Assert.Equal(Weights(straight, ModelDirectory.ModelFile), Weights(resumed, ModelDirectory.ModelFile));
        Assert.Equal(Weights(straight, ModelDirectory.EmaFile), Weights(resumed, ModelDirectory.EmaFile));

        using var model = ImageModel.Load(resumed);
        Assert.Equal(type, model.Config.Sde!.Type);
        var e = Assert.Throws<DiffuseException>(() => model.CreateScheduler("ddim"));
        Assert.Contains("discrete schedulers such as 'ddim' do not apply", e.Message);
    }
}
