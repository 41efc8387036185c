using Diffuse.Configuration;
using Diffuse.Editing;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using Diffuse.ScoreSampling;
using Diffuse.Tests.IO;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Pipelines;

/// <summary>
/// Per-sample seeds: sample k of a run with seed S is the same whatever the batch size and whichever batch it falls in,
/// for every sampler (its starting noise and every step's noise come from its own generator), and seeds still matter.
/// </summary>
public class PerSampleSeedsTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>
    /// A 6x6 one-channel U-Net small enough for unit tests, with random weights everywhere (conv_out included, so its output
    /// depends on its input). 36 values an image, not a multiple of 16: libtorch's normal fill then does not give one
    /// [7, 36] draw the values of seven [1, 36] draws, so a shared generator cannot pass for per-image ones by accident.
    /// </summary>
    static ImageModel RandomImageModel(int batchSize, SchedulerConfig? scheduler = null)
    {
        var config = new ModelConfig
        {
            Model = null,
            Unet = new UNetConfig
            {
                InChannels = 1, OutChannels = 1, ImageSize = 6, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
                AttentionResolutions = [], NumHeads = 1, GroupNormGroups = 4,
            },
            Scheduler = scheduler ?? new SchedulerConfig { NumTrainTimesteps = 100 },
            Data = new DataSpec { Name = "test", Dim = 36, Mean = [], Image = new ImageSpec { Channels = 1, Height = 6, Width = 6 } },
        };
        var network = new UNet2D(config.Unet!);
        using (var g = new Generator(1)) network.ResetParameters(g);
        using (no_grad())
        using (var g = new Generator(2))
            foreach (var p in network.parameters())
                p.add_(randn(p.shape, generator: g) * 0.05);
        var model = ImageModel.FromNetwork(config, network);
        model.BatchSize = batchSize;
        return model;
    }

    /// <summary>
    /// A denoiser whose output for one image does not depend on the others at all, bit for bit: elementwise products and
    /// sums only. The U-Net's convolutions are not (libtorch picks their kernels by batch size, so an image's output moves in
    /// the last float bits), so exact per-image sampling is shown with this and the U-Net's agreement to rounding.
    /// </summary>
    static Tensor Elementwise(Tensor x, Tensor t) => x * 0.3 + t.to_type(ScalarType.Float32).reshape(-1, 1, 1, 1) * 1e-3;

    /// <summary>A sampling plan whose every batch is denoised by <see cref="Elementwise"/>, whatever the network.</summary>
    sealed class ElementwisePlan : Diffuse.Guidance.ISamplingConditioning
    {
        public void Validate(ModelConfig config, string directory, long n) { }

        public Func<Tensor, Tensor, Tensor> Denoiser(Func<Diffuse.Models.DenoiserInput, Tensor> denoise, ModelConfig config, Diffuse.Guidance.SamplingBatch batch) => Elementwise;
    }

    /// <summary>n images of the model's shape by <paramref name="sampler"/>, <paramref name="batchSize"/> at a time, denoised by <see cref="Elementwise"/> (or by the U-Net).</summary>
    static Tensor Sample(ImageModel model, string sampler, int batchSize, ulong seed, long n = 7, int steps = 4, bool unet = false)
    {
        model.BatchSize = batchSize;
        using var g = new Generator(seed);
        var scheduler = model.CreateScheduler(sampler);
        return unet ? model.Sample(n, scheduler, steps, g) : model.Sample(n, scheduler, steps, g, new ElementwisePlan());
    }

    [Fact]
    public void SeedsOfOneRunNeverRepeatAndDependOnTheKey()
    {
        var seeds = new SampleSeeds(12345);
        var all = Enumerable.Range(0, 200_000).Select(k => seeds.For(k)).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.Equal(seeds.For(7), new SampleSeeds(12345).For(7));
        Assert.NotEqual(seeds.For(7), new SampleSeeds(12346).For(7));
        using var a = new Generator(3);
        using var b = new Generator(3);
        Assert.Equal(SampleSeeds.Draw(a), SampleSeeds.Draw(b));
        using var c = new Generator(4);
        Assert.NotEqual(SampleSeeds.Draw(a), SampleSeeds.Draw(c));
    }

    [Fact]
    public void ABatchsDrawIsEachSamplesOwnDrawJoined()
    {
        using var scope = NewDisposeScope();
        var seeds = new SampleSeeds(99);
        using var whole = seeds.Batch(0, 10);
        using var part = seeds.Batch(3, 4);
        var x = whole.Randn([10, 2, 3, 3]);
        Assert.True(Same(x.narrow(0, 3, 4), part.Randn([4, 2, 3, 3])));
        using var single = new Generator(seeds.For(5));
        Assert.True(Same(x.narrow(0, 5, 1), randn([1, 2, 3, 3], generator: single)));
        // A second draw continues each sample's own stream.
        Assert.True(Same(whole.Randn([10, 2, 3, 3]).narrow(0, 3, 4), part.Randn([4, 2, 3, 3])));
        Assert.Contains("one per row", Assert.Throws<DiffuseException>(() => part.Randn([5, 2])).Message);
    }

    [Fact]
    public void ASharedGeneratorDrawsTheWholeBatchAtOnceAsBefore()
    {
        using var scope = NewDisposeScope();
        using var a = new Generator(8);
        using var b = new Generator(8);
        SampleGenerators shared = a;
        Assert.Null(shared.Count);
        Assert.True(Same(shared.Randn([5, 3]), randn([5, 3], generator: b)));
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("ddpm")]
    [InlineData("euler_ancestral")]
    [InlineData("dpmpp_2m_sde")]
    public void ImageKIsTheSameAtBatchSizeOneAndSeven(string sampler)
    {
        using var scope = NewDisposeScope();
        using var model = RandomImageModel(7);
        var seven = Sample(model, sampler, 7, seed: 5);
        Assert.Equal(new long[] { 7, 1, 6, 6 }, seven.shape);
        Assert.True(Same(seven, Sample(model, sampler, 1, seed: 5)), $"{sampler}: batch size 1 differs from 7");
        Assert.True(Same(seven, Sample(model, sampler, 3, seed: 5)), $"{sampler}: batches of 3 (the last of 1) differ from one of 7");
        Assert.True(Same(seven, Sample(model, sampler, 7, seed: 5)), $"{sampler}: the same seed gives other images");
        var other = Sample(model, sampler, 7, seed: 6);
        for (int k = 0; k < 7; k++) Assert.False(Same(seven[k], other[k]), $"{sampler}: seed 6 repeats image {k} of seed 5");
        Assert.False(Same(seven[0], seven[1]), "two images of one run are the same");
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("ddpm")]
    public void TheUNetsImageKAgreesToRoundingAtAnyBatchSize(string sampler)
    {
        using var scope = NewDisposeScope();
        using var model = RandomImageModel(7);
        var seven = Sample(model, sampler, 7, seed: 5, unet: true);
        double batchOne = (seven - Sample(model, sampler, 1, seed: 5, unet: true)).abs().max().item<float>();
        var other = Sample(model, sampler, 7, seed: 6, unet: true);
        double seeds = (seven - other).abs().amax([1, 2, 3]).min().item<float>();
        Assert.True(batchOne < 1e-4, $"{sampler}: batch size 1 differs from 7 by {batchOne}");
        Assert.True(seeds > 0.05, $"{sampler}: another seed changes an image by only {seeds}");
    }

    [Fact]
    public void TheFirstImagesOfALongerRunAreThoseOfAShorterOne()
    {
        using var scope = NewDisposeScope();
        using var model = RandomImageModel(2);
        var three = Sample(model, "ddpm", 2, seed: 9, n: 3);
        Assert.True(Same(three, Sample(model, "ddpm", 4, seed: 9, n: 7).narrow(0, 0, 3)));
    }

    [Fact]
    public void BrownianTreeNoiseIsPerImageToo()
    {
        using var scope = NewDisposeScope();
        using var model = RandomImageModel(7, new SchedulerConfig { NumTrainTimesteps = 100, NoiseSampler = NoiseSampler.BrownianTree });
        var seven = Sample(model, "euler_ancestral", 7, seed: 2, steps: 3);
        Assert.True(Same(seven, Sample(model, "euler_ancestral", 2, seed: 2, steps: 3)));
        Assert.False(Same(seven, Sample(model, "euler_ancestral", 7, seed: 3, steps: 3)));
    }

    [Fact]
    public void SuperResolutionsConditioningNoiseIsPerImage()
    {
        using var scope = NewDisposeScope();
        var config = new ModelConfig
        {
            Model = null,
            Unet = new UNetConfig
            {
                InChannels = 2, OutChannels = 1, ImageSize = 6, BaseChannels = 8, ChannelMult = [1, 2], NumResBlocks = 1,
                AttentionResolutions = [], NumHeads = 1, GroupNormGroups = 4, NoiseLevelEmbedding = true,
            },
            Scheduler = new SchedulerConfig { NumTrainTimesteps = 100 },
            Data = new DataSpec { Name = "test", Dim = 36, Mean = [], Image = new ImageSpec { Channels = 1, Height = 6, Width = 6 } },
            SuperRes = new SuperResSpec { Scale = 2, CondNoiseMax = 10 },
        };
        using var network = new UNet2D(config.Unet!);
        var model = ImageModel.FromNetwork(config, network);
        // Elementwise in x_t and in the (augmented) conditioning, so that the conditioning's noise shows in the result.
        var superResolution = new SuperResolution(model, input => input.X * 0.3 + input.Condition.LowResolution! * 0.1);
        using var g = new Generator(1);
        var low = rand([5, 1, 3, 3], generator: g) * 2 - 1;
        Tensor Upscale(int batchSize, int level)
        {
            model.BatchSize = batchSize;
            using var seed = new Generator(2);
            return superResolution.Upscale(low, model.CreateScheduler("ddim"), 4, seed, level);
        }
        var five = Upscale(5, 5);
        Assert.True(Same(five, Upscale(2, 5)), "an image's conditioning noise depends on its batch");
        Assert.False(Same(five, Upscale(5, 0)), "the conditioning was not noised");
    }

    [Fact]
    public void AScoreSamplerWithoutBatchWideStepSizesIsPerImage()
    {
        using var scope = NewDisposeScope();
        var shape = new long[] { 5, 1, 6, 6 };
        var sde = new VpSde(0.1, 20, 50); // N large enough that every discrete beta_i = beta(t) / N stays below 1
        ScoreFunction score = (x, t) => x * (-1.0); // data N(0, I): every marginal of the VP SDE is N(0, I)
        var settings = new ScoreSamplerSettings { Name = ScoreSamplers.ReverseDiffusion, Steps = 50 };
        var seeds = new SampleSeeds(4);
        Tensor all;
        using (var five = seeds.Batch(0, 5)) all = ScoreSamplers.Run(sde, score, shape, five, settings).Samples;
        for (int k = 0; k < 5; k++)
        {
            using var one = seeds.Batch(k, 1);
            var single = ScoreSamplers.Run(sde, score, [1, 1, 6, 6], one, settings).Samples;
            Assert.True(Same(all.narrow(0, k, 1), single), $"image {k}: {(all.narrow(0, k, 1) - single).abs().max().item<float>()} of {single.abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Img2ImgAndRePaintEditImageKAloneAsInABatch()
    {
        using var scope = NewDisposeScope();
        using var model = RandomImageModel(7);
        using var g = new Generator(1);
        var images = rand([4, 1, 6, 6], generator: g) * 2 - 1;
        var scheduler = model.CreateScheduler("ddpm");
        Tensor Edit(Tensor batch, SampleGenerators generators) => Img2Img.Run(Elementwise, scheduler, 5, 0.6, batch, generators);
        Tensor Fill(Tensor batch, SampleGenerators generators) =>
            RePaint.Run(Elementwise, NoiseSchedule.FromConfig(model.Config.Scheduler), PredictionType.Epsilon, batch, MaskRegions.Mask(MaskRegion.Center, 6, 6).unsqueeze(0),
                generators, new RePaintOptions { Steps = 5, JumpLength = 2, Resample = 2 });
        var seeds = new SampleSeeds(6);
        foreach (var edit in new Func<Tensor, SampleGenerators, Tensor>[] { Edit, Fill })
        {
            Tensor all;
            using (var four = seeds.Batch(0, 4)) all = edit(images, four);
            for (int k = 0; k < 4; k++)
            {
                using var one = seeds.Batch(k, 1);
                Assert.True(Same(all.narrow(0, k, 1), edit(images.narrow(0, k, 1), one)), $"image {k}");
            }
        }
        // The Generator overloads key the images' generators by one draw of the generator.
        using var a = new Generator(6);
        using var b = new Generator(6);
        using var keyed = SampleSeeds.Draw(b).Batch(0, 4);
        Assert.True(Same(Img2Img.Run(Elementwise, scheduler, 5, 0.6, images, a), Edit(images, keyed)));
    }

    [Fact]
    public void PointKIsTheSameInARunOfAnyLength()
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "model");
        PointTraining.TrainAndSave("moons", dir, new ModelConfig
        {
            Model = new MlpConfig { HiddenDim = 16, Blocks = 1 },
            Scheduler = new SchedulerConfig { NumTrainTimesteps = 20 },
            Training = new TrainingSpec { Steps = 2, BatchSize = 16 },
        }, force: false);
        using var model = PointModel.Load(dir);
        Tensor Points(long n, ulong seed)
        {
            using var g = new Generator(seed);
            return model.Sample(n, model.CreateScheduler("ddpm"), 20, g);
        }
        using var scope = NewDisposeScope();
        // To rounding: the MLP's matrix products need not be bitwise the same for 7 rows and for 50.
        var first = Points(50, 3).narrow(0, 0, 7);
        double sameSeed = (first - Points(7, 3)).abs().max().item<float>(), otherSeed = (first - Points(7, 4)).abs().amax(1).min().item<float>();
        Assert.True(sameSeed < 1e-4, $"the first 7 of 50 points differ from a run of 7 by {sameSeed}");
        Assert.True(otherSeed > 1e-3, $"another seed moves a point by only {otherSeed}");
        // Past one batch: the second batch holds 5 points in one run and 50 in the other.
        long n = PointModel.BatchSize + 5;
        double batched = (Points(n, 3) - Points(n + 45, 3).narrow(0, 0, n)).abs().max().item<float>();
        Assert.True(batched < 1e-4, $"points of a second batch depend on its size by {batched}");
        Assert.Equal(2 * 20, model.StepsFor(n, 20));
    }
}
