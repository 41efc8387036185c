using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Fixtures;

/// <summary>
/// Model folders written by an older version of the code (Fixtures/models, by make-fixtures.sh and
/// 'Diffuse.Bench fixture-goldens') still load as what they were and compute the same numbers: the network's output on
/// stored inputs and a deterministic sampling run from stored noise, against the golden.safetensors written beside them.
/// </summary>
public class OldModelFolderTests
{
    /// <summary>
    /// Largest difference allowed, relative to the output's scale (its largest magnitude, at least 1). The goldens are
    /// float32 results of one x86-64 CPU; another computes the same network with other kernels (AVX2 or AVX-512 blocks,
    /// a different convolution route, see docs/ARCHITECTURE.md), which reorders float32 sums: about 1e-6 relative per
    /// layer, a few times that after the sampling run's steps. 1e-4 leaves that room tenfold, yet any change of the
    /// weights read, a layer, the conditioning or a scheduler step moves the outputs by 1e-3 or much more.
    /// </summary>
    const double RelativeTolerance = 1e-4;

    public static TheoryData<FixtureKind> Kinds => new(FixtureKinds.All);

    /// <summary>What each folder was written as (make-fixtures.sh's options): the loaded config must still say so.</summary>
    static void AssertConfigIsTheKindWritten(FixtureKind kind, IDiffusionModel model)
    {
        var config = model.Config;
        Assert.Equal(kind == FixtureKind.SdeVp ? SdeType.Vp : null, config.Sde?.Type);
        if (FixtureKinds.IsPoints(kind))
        {
            Assert.IsType<PointModel>(model);
            Assert.NotNull(config.Model);
            Assert.Null(config.Unet);
            Assert.Null(config.Data.Image);
            Assert.Equal(2, config.Data.Dim);
            return;
        }
        var image = Assert.IsType<ImageModel>(model);
        Assert.Null(config.Model);
        Assert.NotNull(config.Unet);
        Assert.Equal(kind == FixtureKind.Class, image.IsConditional);
        Assert.Equal(kind == FixtureKind.Text, image.IsTextConditional);
        Assert.Equal(kind == FixtureKind.SuperRes, config.SuperRes is not null);
        Assert.Equal(kind == FixtureKind.SuperRes, config.Unet!.NoiseLevelEmbedding);
        Assert.Equal(kind == FixtureKind.LearnedVariance ? VarianceType.LearnedRange : VarianceType.FixedSmall, config.Scheduler.VarianceType);
        Assert.Equal(kind == FixtureKind.LearnedVariance ? LossWeighting.Hybrid : LossWeighting.Simple, config.Training.Loss);
        Assert.Equal(kind == FixtureKind.Bf16 ? TrainingPrecision.Bf16 : TrainingPrecision.Fp32, config.Training.Precision);
        // Classifier-free guidance needs the label (caption) dropout the conditional folders were trained with.
        Assert.Equal(kind is FixtureKind.Class or FixtureKind.Text ? 0.2 : null, config.Training.CondDrop);
        if (kind == FixtureKind.Class) Assert.Equal(image.ClassNames.Count, config.Unet.NumClasses ?? -1);
        if (kind == FixtureKind.SuperRes) Assert.Equal(2, config.SuperRes!.Scale);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheFolderLoadsAsTheKindItWasWrittenAs(FixtureKind kind)
    {
        using var model = FixtureRuns.Load(kind, Folder(kind));
        AssertConfigIsTheKindWritten(kind, model);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheNetworkGivesTheGoldenOutputOnTheStoredInputs(FixtureKind kind)
    {
        using var golden = Golden(kind);
        using var model = FixtureRuns.Load(kind, Folder(kind));
        using var scope = NewDisposeScope();
        var inputs = golden.Tensors;
        if (kind == FixtureKind.Text)
        {
            // The tokenizer (its vocabulary is config.json's) must still encode the prompts as it did.
            var tokens = FixtureRuns.Tokens((ImageModel)model, Settings(golden).Prompts);
            Assert.Equal(inputs["tokens"].data<long>().ToArray(), tokens.data<long>().ToArray());
        }
        AssertClose(inputs[FixtureRuns.DenoisedKey], FixtureRuns.Denoised(kind, model, inputs), kind, "network output");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SamplingFromTheStoredNoiseGivesTheGoldenSamples(FixtureKind kind)
    {
        using var golden = Golden(kind);
        using var model = FixtureRuns.Load(kind, Folder(kind));
        using var scope = NewDisposeScope();
        AssertClose(golden.Tensors[FixtureRuns.SampleKey], FixtureRuns.Sample(kind, model, golden.Tensors, Settings(golden)), kind, "samples");
    }

    [Fact]
    public void EveryFixtureFolderIsAKindTheseTestsCheck()
    {
        var folders = Directory.GetDirectories(ModelsRoot.Value).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(FixtureKinds.All.Select(FixtureKinds.Folder).Order(StringComparer.Ordinal), folders);
        foreach (var kind in FixtureKinds.All)
        {
            using var golden = Golden(kind);
            Assert.Equal(FixtureKinds.Folder(kind), golden.Metadata[FixtureRuns.KindKey]);
        }
    }

    static void AssertClose(Tensor expected, Tensor actual, FixtureKind kind, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        using var scope = NewDisposeScope();
        var want = expected.to_type(ScalarType.Float64);
        double scale = Math.Max(1, want.abs().max().item<double>());
        double diff = (actual.to_type(ScalarType.Float64) - want).abs().max().item<double>();
        Assert.True(diff <= RelativeTolerance * scale,
            $"{FixtureKinds.Folder(kind)}: the {what} differ from the golden by up to {diff:G3} (allowed {RelativeTolerance * scale:G3})");
    }

    static FixtureSettings Settings(SafeTensorsFile golden) => FixtureSettings.FromJson(golden.Metadata[FixtureRuns.SettingsKey]);

    static SafeTensorsFile Golden(FixtureKind kind) => SafeTensors.Read(Path.Combine(Folder(kind), FixtureRuns.GoldenFile));

    static string Folder(FixtureKind kind) => Path.Combine(ModelsRoot.Value, FixtureKinds.Folder(kind));

    /// <summary>tests/Diffuse.Tests/Fixtures/models in the source tree, found from the test binary upwards (as GoldenFile finds tests/golden).</summary>
    static readonly Lazy<string> ModelsRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "Diffuse.Tests", "Fixtures", "models");
            if (Directory.Exists(path)) return path;
        }
        throw new DirectoryNotFoundException("tests/Diffuse.Tests/Fixtures/models not found above " + AppContext.BaseDirectory);
    });
}
