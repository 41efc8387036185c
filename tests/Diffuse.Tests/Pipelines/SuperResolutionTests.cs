using Diffuse.Configuration;
using Diffuse.Editing;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

using Diffuse.Tests.Models;

namespace Diffuse.Tests.Pipelines;

/// <summary>Super-resolution and cascades: the low-resolution pipeline, the conditioned U-Net, the config, the sampling loop with an oracle network.</summary>
public class SuperResolutionTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static Tensor RandomImages(long n, int c, int size, ulong seed)
    {
        using var g = new Generator(seed);
        return rand([n, c, size, size], generator: g) * 2 - 1;
    }

    /// <summary>A super-resolution config of 8x8 images (4x4 inputs), a U-Net small enough for unit tests.</summary>
    static ModelConfig Config(int channels = 1, int? condNoiseMax = null, int size = 8) => new()
    {
        Model = null,
        Unet = new UNetConfig
        {
            InChannels = 2 * channels, OutChannels = channels, ImageSize = size, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
            AttentionResolutions = [], NumHeads = 1, GroupNormGroups = 4, NoiseLevelEmbedding = condNoiseMax is not null,
        },
        Scheduler = new SchedulerConfig { NumTrainTimesteps = 100, ClipSample = true },
        Data = new DataSpec { Name = "test", Dim = channels * size * size, Mean = [], Image = new ImageSpec { Channels = channels, Height = size, Width = size } },
        SuperRes = new SuperResSpec { Scale = 2, CondNoiseMax = condNoiseMax },
    };

    [Fact]
    public void DownsamplingMatchesTheDataPipelinesResizeSoACascadesBaseSeesTheSameImages()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var pixels = randint(0, 256, [6, 1, 28, 28], ScalarType.Int64, generator: g).to(ScalarType.Byte);
        var viaData = PixelScale.ToSigned(Diffuse.Data.ImageResampler.Resize(pixels, 14));
        var viaSuperRes = LowResolution.Downsample(PixelScale.ToSigned(pixels), 2);
        Assert.Equal(new long[] { 6, 1, 14, 14 }, viaSuperRes.shape);
        // Both round the same antialiased bicubic to 8-bit levels; float order may flip a rare .5 tie by one level.
        double levels = ((viaData - viaSuperRes).abs().max().item<float>()) * 127.5;
        Assert.True(levels <= 1.0001, $"differ by {levels} levels");
        double equal = viaData.eq(viaSuperRes).to_type(ScalarType.Float64).mean().item<double>();
        Assert.True(equal > 0.99, $"only {equal:P1} of the pixels are equal");
    }

    [Fact]
    public void TheConditioningHasTheFullSizeIsDeterministicAndKeepsConstantImages()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(3, 3, 16, 1);
        var a = LowResolution.Conditioning(images, 4);
        var b = LowResolution.Conditioning(images, 4);
        Assert.Equal(new long[] { 3, 3, 16, 16 }, a.shape);
        Assert.True(Same(a, b));
        Assert.True(a.abs().max().item<float>() <= 1f);
        // A constant image (on an 8-bit level) survives the round trip exactly.
        var constant = full([2, 1, 8, 8], 51 / 127.5f - 1f);
        Assert.True(LowResolution.Conditioning(constant, 2).allclose(constant, 0, 1e-6));
        // The low-resolution copy is the average's neighbourhood: smooth images change little, noise is smoothed away.
        Assert.True((LowResolution.Conditioning(images, 4) - images).abs().mean().item<float>() > 0.2f);
        Assert.Throws<DiffuseException>(() => LowResolution.Downsample(RandomImages(1, 1, 10, 2), 4));
    }

    [Fact]
    public void AugmentationKeepsLevelZeroAndNoisesOtherLevelsAsTheForwardProcess()
    {
        using var scope = NewDisposeScope();
        var diffusion = new GaussianDiffusion(NoiseSchedule.Create(BetaSchedule.Linear, 1000), PredictionType.Epsilon);
        var condition = RandomImages(400, 1, 8, 4) * 0.5;
        var levels = cat([zeros([200], ScalarType.Int64), full([200], 300L, ScalarType.Int64)]);
        using var g = new Generator(5);
        var noisy = LowResolution.Augment(condition, levels, diffusion, g);
        Assert.True(Same(noisy.narrow(0, 0, 200), condition.narrow(0, 0, 200)));
        // Level s is x_s = sqrt(abar) c + sqrt(1 - abar) z at index s - 1: the noise recovered is standard normal.
        double abar = diffusion.Schedule.AlphaCumprod(299);
        var z = (noisy.narrow(0, 200, 200) - Math.Sqrt(abar) * condition.narrow(0, 200, 200)) / Math.Sqrt(1 - abar);
        Assert.InRange(z.mean().item<float>(), -0.02, 0.02);
        Assert.InRange(z.std().item<float>(), 0.97, 1.03);
    }

    [Fact]
    public void TrainingConditioningIsSeededAndDrawsLevelsInRange()
    {
        using var scope = NewDisposeScope();
        var diffusion = new GaussianDiffusion(NoiseSchedule.Create(BetaSchedule.Linear, 100), PredictionType.Epsilon);
        var x0 = RandomImages(64, 1, 8, 6);
        var spec = new SuperResSpec { Scale = 2, CondNoiseMax = 7 };
        (Tensor, Tensor?) Draw(ulong seed) { using var g = new Generator(seed); return SuperResolution.TrainingConditioning(x0, spec, diffusion, g); }
        var (c1, l1) = Draw(9);
        var (c2, l2) = Draw(9);
        var (c3, _) = Draw(10);
        Assert.True(Same(c1, c2) && Same(l1!, l2!));
        Assert.False(Same(c1, c3));
        Assert.Equal(0, l1!.min().item<long>());
        Assert.Equal(7, l1.max().item<long>());
        var (plain, none) = SuperResolution.TrainingConditioning(x0, spec with { CondNoiseMax = null }, diffusion, new Generator(1));
        Assert.Null(none);
        Assert.True(Same(plain, LowResolution.Conditioning(x0, 2)));
    }

    [Fact]
    public void TheChannelConcatUNetTakesTwiceTheChannelsAndIsToldTheNoiseLevel()
    {
        using var scope = NewDisposeScope();
        var config = Config(channels: 3, condNoiseMax: 50);
        config.Validate();
        using var network = new UNet2D(config.Unet!);
        using (var g = new Generator(1)) network.ResetParameters(g);
        // conv_out and every residual block's conv2 start at zero; perturb all weights so that the output shows what the input changes.
        using (no_grad())
        using (var g = new Generator(2))
            foreach (var p in network.parameters())
                p.add_(randn(p.shape, generator: g) * 0.05);
        var x = RandomImages(2, 6, 8, 3);
        var t = tensor(new long[] { 5, 40 });
        var output = network.Forward(x, t, null, tensor(new long[] { 0, 0 }));
        Assert.Equal(new long[] { 2, 3, 8, 8 }, output.shape);
        Assert.True(Same(output, network.Forward(x, t, null, null)));
        Assert.False(output.allclose(network.Forward(x, t, null, tensor(new long[] { 30, 30 }))));
        Assert.Throws<DiffuseException>(() => network.Forward(RandomImages(2, 3, 8, 4), t, null, null));
        using var plain = new UNet2D(Config(channels: 3).Unet!);
        Assert.Throws<DiffuseException>(() => plain.Forward(x, t, null, tensor(new long[] { 1, 1 })));
    }

    [Fact]
    public void TheConfigWritesSuperResKeysOnlyForSuperResolutionModels()
    {
        var config = Config(condNoiseMax: 20);
        var json = config.ToJson();
        Assert.Contains("\"super_res\"", json);
        Assert.Contains("\"noise_level_embedding\": true", json);
        var back = ModelConfig.FromJson(json, "test");
        Assert.Equal(config.SuperRes, back.SuperRes);
        Assert.Equal(config.Fingerprint(), back.Fingerprint());
        var plain = config with
        {
            SuperRes = null, Unet = config.Unet! with { InChannels = 1, NoiseLevelEmbedding = false },
        };
        plain.Validate();
        Assert.DoesNotContain("super_res", plain.ToJson());
        Assert.DoesNotContain("noise_level", plain.ToJson());
        Assert.Contains("low-resolution copy make 2x8x8", Assert.Throws<DiffuseException>(() => (config with { Unet = config.Unet with { InChannels = 1 } }).Validate()).Message);
        Assert.Contains("noise_level_embedding", Assert.Throws<DiffuseException>(() => (config with { Unet = config.Unet with { NoiseLevelEmbedding = false } }).Validate()).Message);
        Assert.Contains("scale", Assert.Throws<DiffuseException>(() => (config with { SuperRes = config.SuperRes! with { Scale = 3 } }).Validate()).Message);
    }

    /// <summary>
    /// The exact noise prediction when the high-resolution image is the conditioning itself (a point mass at c):
    /// eps = (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t). Any scheduler must then return c.
    /// </summary>
    static Func<DenoiserInput, Tensor> Oracle(NoiseSchedule schedule) => input =>
    {
        var (x, t, condition) = (input.X, input.T, input.Condition.LowResolution!);
        var abar = schedule.AlphasCumprodTensor().index_select(0, t.to(ScalarType.Int64)).to(ScalarType.Float32).reshape(-1, 1, 1, 1);
        return (x - abar.sqrt() * condition) / (1 - abar).sqrt();
    };

    [Fact]
    public void AnImageModelCreatesSchedulersWithoutACastFromItsOwnConfig()
    {
        var config = Config();
        using var network = new UNet2D(config.Unet!);
        var model = ImageModel.FromNetwork(config, network);
        var scheduler = model.CreateScheduler("dpmpp_2m", c => c with { NumTrainTimesteps = 500 });
        Assert.Equal("dpmpp_2m", scheduler.Name);
        Assert.Equal(500, scheduler.Config.NumTrainTimesteps);
        Assert.Equal(config.Scheduler.BetaSchedule, model.CreateScheduler("ddim").Config.BetaSchedule);
        Assert.Throws<DiffuseException>(() => model.CreateScheduler("no-such-sampler"));
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("dpmpp_2m")]
    public void UpscalingWithAnOracleNetworkReturnsTheUpsampledInput(string sampler)
    {
        using var scope = NewDisposeScope();
        var config = Config();
        using var network = new UNet2D(config.Unet!);
        var model = ImageModel.FromNetwork(config, network);
        model.BatchSize = 3;
        var schedule = NoiseSchedule.FromConfig(config.Scheduler);
        var superResolution = new SuperResolution(model, Oracle(schedule));
        var low = RandomImages(5, 1, 4, 7) * 0.8;
        using var g = new Generator(1);
        var upscaled = superResolution.Upscale(low, Schedulers.Create(sampler, config.Scheduler), 20, g);
        Assert.Equal(new long[] { 5, 1, 8, 8 }, upscaled.shape);
        var expected = LowResolution.Upsample(low, 2);
        Assert.True(upscaled.allclose(expected, 0, 1e-3), $"max error {(upscaled - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void UpscalingRefusesWrongInputsAndLevels()
    {
        var config = Config();
        using var network = new UNet2D(config.Unet!);
        var model = ImageModel.FromNetwork(config, network, "sr");
        var superResolution = new SuperResolution(model);
        using var scheduler = new Generator(1);
        var ddim = Schedulers.Create("ddim", config.Scheduler);
        Assert.Contains("upscales 1-channel 4x4 images", Assert.Throws<DiffuseException>(() => superResolution.Upscale(zeros(1, 1, 5, 5), ddim, 2, scheduler)).Message);
        Assert.Contains("3-channel 4x4", Assert.Throws<DiffuseException>(() => superResolution.Upscale(zeros(1, 3, 4, 4), ddim, 2, scheduler)).Message);
        Assert.Contains("without noise-conditioning augmentation", Assert.Throws<DiffuseException>(() => superResolution.Upscale(zeros(1, 1, 4, 4), ddim, 2, scheduler, noiseLevel: 3)).Message);
        Assert.Contains("super-resolution model", Assert.Throws<DiffuseException>(() => model.Sample(1, ddim, 2, scheduler)).Message);
    }

    [Fact]
    public void ACascadeNeedsABaseWhoseSizeTimesTheScaleIsTheSuperResolutionModels()
    {
        var config = Config();
        using var network = new UNet2D(config.Unet!);
        var superResolution = new SuperResolution(ImageModel.FromNetwork(config, network, "sr"));
        ModelConfig BaseConfig(int size) => config with
        {
            SuperRes = null, Unet = config.Unet! with { InChannels = 1, ImageSize = size },
            Data = config.Data with { Image = config.Data.Image! with { Height = size, Width = size } },
        };
        using var wrong = new UNet2D(BaseConfig(8).Unet!);
        var message = Assert.Throws<DiffuseException>(() => new Cascade(ImageModel.FromNetwork(BaseConfig(8), wrong, "base"), superResolution)).Message;
        Assert.Contains("makes 8x8 images, x2 = 16x16", message);
        Assert.Contains("is a super-resolution model", Assert.Throws<DiffuseException>(() => new Cascade(superResolution.Model, superResolution)).Message);
        using var right = new UNet2D(BaseConfig(4).Unet!);
        var cascade = new Cascade(ImageModel.FromNetwork(BaseConfig(4), right, "base"), superResolution);
        using var g = new Generator(4);
        var ddim = Schedulers.Create("ddim", config.Scheduler);
        using var images = cascade.Sample(3, (ddim, 2), (ddim, 2), g);
        Assert.Equal(new long[] { 3, 1, 8, 8 }, images.shape);
    }

    [Fact]
    public void PsnrFollowsItsClosedForm()
    {
        using var scope = NewDisposeScope();
        var a = zeros(2, 1, 4, 4);
        // A difference of 0.2 in [-1, 1] is 0.1 in [0, 1]: MSE 0.01, 20 dB.
        Assert.Equal(20.0, SuperResolutionEvaluation.MeanPsnr(a + 0.2, a), 4);
        Assert.Equal(100.0, SuperResolutionEvaluation.MeanPsnr(a, a), 6);
        // The mean over images: 20 dB and 40 dB give 30.
        var mixed = cat([full([1, 1, 4, 4], 0.2f), full([1, 1, 4, 4], 0.02f)]);
        Assert.Equal(30.0, SuperResolutionEvaluation.MeanPsnr(mixed, a), 4);
    }
}
