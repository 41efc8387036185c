using Diffuse.Api;
using Diffuse.Configuration;
using Diffuse.Pipelines;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Api;

/// <summary>The curated entry point: requests whose unset settings are the library's defaults, and the examples/ program.</summary>
public class PublicApiTests
{
    static string Points(TempFolder folder, int steps = 30)
    {
        var dir = Path.Combine(folder.Path, "points");
        DiffusionModel.Train(new TrainRequest { Data = "moons", OutDir = dir, Steps = steps, BatchSize = 64 });
        return dir;
    }

    [Fact]
    public void AnEmptyRequestSamplesWithTheLibrarysDefaultsForTheModel()
    {
        using var folder = new TempFolder();
        var dir = Points(folder);
        using var model = DiffusionModel.Load(dir);
        Assert.Equal("ddpm", Defaults.Sampler(model.Config));
        Assert.Equal(model.Config.Scheduler.NumTrainTimesteps, Defaults.Steps(model.Config, "ddpm"));
        using var viaRequest = model.Sample(new SampleRequest { Count = 5, Seed = 3 });
        // The same run spelled out below the facade: DDPM over every training timestep, a generator seeded 3.
        using var points = PointModel.Load(dir);
        using var g = new Generator(3);
        using var direct = points.Sample(5, points.CreateScheduler("ddpm"), model.Config.Scheduler.NumTrainTimesteps, g);
        Assert.Equal(direct.data<float>().ToArray(), viaRequest.data<float>().ToArray());
        // Named settings are taken: DDIM at 10 steps is another run.
        using var ddim = model.Sample(new SampleRequest { Count = 5, Seed = 3, Sampler = "ddim", Steps = 10 });
        Assert.False(ddim.allclose(viaRequest));
    }

    [Fact]
    public void ImageDefaultsAreTheImageOnes()
    {
        var config = new ModelConfig { Network = UNetConfig.Preset("tiny").ForImages(1, 28), Data = new DataSpec { Name = "m", Dim = 784, Mean = [], Image = new ImageSpec { Channels = 1, Height = 28, Width = 28 } } };
        Assert.Equal("dpmpp_2m_sde", Defaults.Sampler(config));
        Assert.Equal(20, Defaults.Steps(config, "dpmpp_2m_sde"));
        Assert.True(Defaults.KarrasSigmas(config, "dpmpp_2m_sde"));
        // Another sampler keeps the library's step count and the model's sigmas.
        Assert.Equal(50, Defaults.Steps(config, "ddim"));
        Assert.Equal(50, Defaults.Steps(config, "dpmpp_2m"));
        Assert.False(Defaults.KarrasSigmas(config, "dpmpp_2m"));
        Assert.True(Defaults.KarrasSigmas(config with { Scheduler = config.Scheduler with { UseKarrasSigmas = true } }, "dpmpp_2m"));
        Assert.Equal(Precision.Bf16, Defaults.SamplingPrecision(config));
        Assert.Equal("pc", Defaults.Sampler(config with { Sde = new SdeSpec() }));
        Assert.Equal(3000, Defaults.ImageTraining.Steps);
        Assert.Equal(64, Defaults.ImageTraining.BatchSize);
    }

    [Fact]
    public void AnEmptyImageRequestIsTheDefaultSamplerOnKarrasSigmasAtItsSteps()
    {
        string dir = Path.Combine(ModelsRoot(), "unconditional");
        using var model = DiffusionModel.Load(dir);
        using var viaDefaults = model.Sample(new SampleRequest { Count = 3, Seed = 4 });
        using var spelledOut = model.Sample(new SampleRequest { Count = 3, Seed = 4, Sampler = "dpmpp_2m_sde", Steps = 20, KarrasSigmas = true });
        Assert.Equal(spelledOut.data<float>().ToArray(), viaDefaults.data<float>().ToArray());
        // Each default is taken: the model's own sigmas, or another step count, are other runs.
        using var plainSigmas = model.Sample(new SampleRequest { Count = 3, Seed = 4, KarrasSigmas = false });
        Assert.False(plainSigmas.allclose(viaDefaults));
        using var otherSteps = model.Sample(new SampleRequest { Count = 3, Seed = 4, Steps = 12 });
        Assert.False(otherSteps.allclose(viaDefaults));
    }

    /// <summary>tests/Diffuse.Tests/Fixtures/models in the source tree, found from the test binary upwards.</summary>
    static string ModelsRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "Diffuse.Tests", "Fixtures", "models");
            if (Directory.Exists(path)) return path;
        }
        throw new DirectoryNotFoundException("tests/Diffuse.Tests/Fixtures/models not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("Count", 0, null)]
    [InlineData("Steps", 1, 0)]
    public void ABadRequestNamesItsProperty(string property, int count, int? steps)
    {
        var e = Assert.Throws<DiffuseException>(() => new SampleRequest { Count = count, Steps = steps }.Validate());
        Assert.StartsWith(property, e.Message);
    }

    [Fact]
    public void ConditionsAModelDoesNotTakeAreRefusedInOneLine()
    {
        using var folder = new TempFolder();
        using var model = DiffusionModel.Load(Points(folder, 2));
        Assert.Contains("Guidance needs", Assert.Throws<DiffuseException>(() => model.Sample(new SampleRequest { Guidance = 3 })).Message);
        Assert.Contains("no classes", Assert.Throws<DiffuseException>(() => model.Sample(new SampleRequest { Classes = ["1"] })).Message);
        Assert.Contains("Evaluate scores image models", Assert.Throws<DiffuseException>(() => model.Evaluate()).Message);
        Assert.Contains("a model of points takes no classes", Assert.Throws<DiffuseException>(() =>
            DiffusionModel.Train(new TrainRequest { Data = "moons", OutDir = Path.Combine(folder.Path, "x"), Conditioning = ConditioningKind.Class })).Message);
    }

    [Fact]
    public void TheExampleProgramTrainsSamplesAndEvaluatesAnImageModel()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "digits");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 60, 28, 28, 4);
        var output = new StringWriter();
        int code = Diffuse.Examples.QuickStart.Run(data, Path.Combine(folder.Path, "run"), 2, 8, output, Path.Combine(folder.Path, "cache"));
        Assert.Equal(0, code);
        string text = output.ToString();
        Assert.Contains("trained 2 steps", text);
        Assert.True(File.Exists(Path.Combine(folder.Path, "run", "quickstart-samples.png")));
        Assert.Matches(@"FCD \d+\.\d\d \(real floor \d+\.\d\d\), confidence 0\.\d{3}, class entropy \d\.\d{3}", text);
    }
}
