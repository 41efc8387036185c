using Diffuse.Api;
using Diffuse.Configuration;
using Diffuse.Pipelines;
using Diffuse.Tests.IO;
using TorchSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;
using static TorchSharp.torch;

namespace Diffuse.Tests.Kinds;

/// <summary>
/// Data kinds behind one registry: the built-in ones answer for points and images, and a kind added from outside the
/// library (<see cref="SignalKind"/>, 1-D signals [B, C, T]) loads through <see cref="DiffusionModel.Load"/>, samples through
/// <see cref="DiffusionModel.Sample"/>, takes its own defaults and writes its samples, in the facade and in <c>diffuse sample</c>.
/// </summary>
public class DataKindTests
{
    static DataKindTests() => SignalKind.Register();

    static ModelConfig Image => new()
    {
        Network = UNetConfig.Preset("tiny").ForImages(1, 28),
        Data = new DataSpec { Name = "m", Dim = 784, Mean = [], Image = new ImageSpec { Channels = 1, Height = 28, Width = 28 } },
    };

    [Fact]
    public void TheBuiltInKindsAnswerForPointsAndImages()
    {
        var points = DataKinds.For(new ModelConfig());
        Assert.Equal("points", points.Name);
        Assert.Equal([2L], points.SampleShape(new ModelConfig()));
        Assert.Equal("ddpm", points.DefaultSampler);
        var images = DataKinds.For(Image);
        Assert.Equal("images", images.Name);
        Assert.Equal([1L, 28, 28], images.SampleShape(Image));
        Assert.Equal(Precision.Bf16, images.DefaultPrecision);
        Assert.Equal("test-signals", DataKinds.For(SignalKind.Config(2, 8)).Name);
        // Registering again replaces the kind of that name, it does not add a second.
        SignalKind.Register();
        Assert.Single(DataKinds.All, k => k.Name == "test-signals");
    }

    [Fact]
    public void AKindFromOutsideTheLibraryLoadsSamplesAndWritesThroughTheFacade()
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "signals");
        var config = SignalKind.Config(2, 8);
        SignalKind.WriteFolder(dir, config);
        Assert.Equal("ddim", Defaults.Sampler(config));
        Assert.Equal(Precision.Fp32, Defaults.SamplingPrecision(config));

        using var model = DiffusionModel.Load(dir);
        Assert.Same(SignalKind.Instance, model.Kind);
        Assert.IsType<SignalModel>(model.Model);
        using var drawn = model.Sample(new SampleRequest { Count = 5, Seed = 4, Steps = 6 });
        Assert.Equal([5L, 2, 8], drawn.shape);
        Assert.True(drawn.isfinite().all().item<bool>());

        // The same run below the facade: the kind's default sampler, a generator seeded 4; per-sample seeds make the
        // first samples of a longer run the same.
        using var g = new Generator(4);
        using var longer = model.Model.Sample(7, model.Model.CreateScheduler("ddim"), 6, g);
        Assert.Equal(drawn.data<float>().ToArray(), longer.narrow(0, 0, 5).data<float>().ToArray());
        using var other = model.Sample(new SampleRequest { Count = 5, Seed = 5, Steps = 6 });
        Assert.False(other.allclose(drawn));

        // Written by the kind: one CSV row per sample and channel, the values exactly.
        string csv = Path.Combine(folder.Path, "signals.csv");
        string line = model.Kind.WriteSamples(drawn, new SampleOutput(csv, model.Config));
        Assert.Equal($"wrote 5 signals to {csv}", line);
        var rows = File.ReadAllLines(csv);
        Assert.Equal(10, rows.Length);
        var values = rows.SelectMany(r => r.Split(',').Skip(2).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(drawn.data<float>().ToArray(), values);

        // Conditions the model does not take are refused by the plans, whatever the kind.
        Assert.Contains("no classes", Assert.Throws<DiffuseException>(() => model.Sample(new SampleRequest { Classes = ["1"] })).Message);
    }

    [Fact]
    public void DiffuseSampleWritesAKindFromOutsideTheLibraryThroughTheKind()
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "signals");
        SignalKind.WriteFolder(dir, SignalKind.Config(1, 6));
        string fromCli = Path.Combine(folder.Path, "cli.csv");
        var result = RunOk("sample", "--model", dir, "--n", "4", "--steps", "5", "--seed", "9", "--out", fromCli);
        Assert.Contains($"wrote 4 signals to {fromCli}", result.Stdout);
        using var model = DiffusionModel.Load(dir);
        using var drawn = model.Sample(new SampleRequest { Count = 4, Seed = 9, Steps = 5 });
        string fromFacade = Path.Combine(folder.Path, "facade.csv");
        model.Kind.WriteSamples(drawn, new SampleOutput(fromFacade, model.Config));
        Assert.Equal(File.ReadAllText(fromFacade), File.ReadAllText(fromCli));
        // The kind's formats are the ones the CLI accepts.
        Assert.Contains(".csv", Fails(2, "sample", "--model", dir, "--out", Path.Combine(folder.Path, "x.png")).Stderr);
    }
}
