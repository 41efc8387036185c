using Diffuse.Configuration;
using Diffuse.Evaluation;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Diffuse.Tests.Sampling;

/// <summary><c>noise_sampler brownian_tree</c> in the stochastic samplers: where it applies, and what it is for.</summary>
public class BrownianNoiseSamplerTests(ITestOutputHelper output)
{
    private static readonly SchedulerConfig Brownian = new() { NumTrainTimesteps = 1000, NoiseSampler = NoiseSampler.BrownianTree };

    public static TheoryData<string> Stochastic => ["euler_ancestral", "dpm2_ancestral", "dpmpp_2s_ancestral", "dpmpp_2m_sde", "dpmpp_3m_sde"];

    [Theory]
    [InlineData("ddpm")]
    [InlineData("ddim")]
    [InlineData("euler")]
    [InlineData("heun")]
    [InlineData("lms")]
    [InlineData("dpm2")]
    [InlineData("dpmpp_2m")]
    [InlineData("unipc")]
    [InlineData("dpmpp_2s")]
    [InlineData("deis")]
    [InlineData("pndm")]
    public void SchedulersWithoutStepNoiseRefuseIt(string name)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(name, """{"noise_sampler": "brownian_tree"}"""));
        Assert.Contains("noise_sampler brownian_tree", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheKeyIsReadAndWrittenOnlyWhenNotTheDefault()
    {
        Assert.Equal(NoiseSampler.BrownianTree, SchedulerConfig.FromJson("""{"noise_sampler": "brownian_tree"}""").NoiseSampler);
        Assert.DoesNotContain("noise_sampler", new SchedulerConfig().ToJson());
        Assert.Contains("\"noise_sampler\": \"brownian_tree\"", Brownian.ToJson());
        Assert.IsType<DpmSolverMultistepScheduler>(Schedulers.Create("dpmpp_2m", Brownian with { AlgorithmType = AlgorithmType.SdeDpmsolver, FinalSigmasType = FinalSigmasType.SigmaMin }));
        Assert.IsType<DpmSolverSinglestepScheduler>(Schedulers.Create("dpmpp_2s", Brownian with { AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus }));
    }

    [Fact]
    public void GaussianIsTheDefaultAndDiffusersOwn()
    {
        // diffusers' EulerAncestralDiscreteScheduler full loop (scheduler-vectors.md), with the key spelt out.
        using var scope = torch.NewDisposeScope();
        var config = SchedulerConfig.FromJson("""{"num_train_timesteps": 1100, "noise_sampler": "gaussian"}""");
        using var g = new torch.Generator(0);
        var (sum, mean) = ReferenceInputs.SumMeanAbs(ReferenceInputs.LoopB(Schedulers.Create("euler_ancestral", config), 10, ReferenceInputs.SampleDeter(), g));
        Assert.Equal(152.3192, sum, 1e-2);
        Assert.Equal(0.1983, mean, 1e-3);
    }

    [Theory]
    [MemberData(nameof(Stochastic))]
    public void OneSeedFixesTheSampleAndItIsNotTheGaussianOne(string name)
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor Sample(SchedulerConfig config, int seed, int steps = 8)
        {
            using var g = new torch.Generator((ulong)seed);
            return ReferenceInputs.LoopB(Schedulers.Create(name, config with { UseKarrasSigmas = true }), steps, ReferenceInputs.SampleDeter(), g);
        }
        var a = Sample(Brownian, 1);
        Assert.False(a.isnan().any().item<bool>());
        Assert.True(torch.allclose(a, Sample(Brownian, 1), rtol: 0, atol: 0));
        Assert.False(torch.allclose(a, Sample(Brownian, 2), rtol: 0, atol: 1e-4));
        Assert.False(torch.allclose(a, Sample(Brownian with { NoiseSampler = NoiseSampler.Gaussian }, 1), rtol: 0, atol: 1e-4));
    }

    /// <summary>
    /// The point of the tree (the "changing the number of steps changes the sample smoothly"): driven by the
    /// exact denoiser of a 2-D Gaussian mixture from one seed, the samples of N and 2N steps lie far closer together
    /// with the Brownian tree than with fresh noise per step, which draws unrelated noise at every step count.
    /// Stable Diffusion's schedule (sigma 0.03 to 14.6, Karras sigmas), 2000 points.
    /// </summary>
    [Theory]
    [InlineData("euler_ancestral", 25)]
    [InlineData("dpmpp_2m_sde", 25)]
    [InlineData("dpmpp_2s_ancestral", 25)]
    public void TheSampleChangesLittleWithTheStepCount(string name, int steps)
    {
        var config = new SchedulerConfig { NumTrainTimesteps = 1000, BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = BetaSchedule.ScaledLinear, UseKarrasSigmas = true };
        double gaussian = Distance(name, config, steps), brownian = Distance(name, config with { NoiseSampler = NoiseSampler.BrownianTree }, steps);
        output.WriteLine($"{name}: mean distance between {steps} and {2 * steps} steps, gaussian {gaussian:F4}, brownian {brownian:F4}, ratio {gaussian / brownian:F2}");
        Assert.True(brownian * 5 < gaussian, $"gaussian {gaussian}, brownian {brownian}"); // measured: ratio 11 and 12
    }

    private static double Distance(string name, SchedulerConfig config, int steps)
    {
        using var scope = torch.NewDisposeScope();
        var schedule = NoiseSchedule.FromConfig(config);
        var trainSigmas = Enumerable.Range(0, schedule.NumTrainTimesteps).Select(schedule.Sigma).ToArray();
        using var mixture = new GaussianMixture(new double[,] { { -1, -1 }, { 1, 1 }, { 1, -1 }, { -1, 1 } }, [0.3, 0.3, 0.3, 0.3], [1, 1, 1, 1]);
        torch.Tensor Model(torch.Tensor x, torch.Tensor t)
        {
            double sigma = SigmaSchedules.Interpolate(t[0].to_type(torch.float64).item<double>(), trainSigmas);
            double abar = 1 / (1 + sigma * sigma);
            using var x0 = mixture.Denoise(x, abar);
            return (x - x0 * Math.Sqrt(abar)) / Math.Sqrt(1 - abar);
        }
        var scheduler = Schedulers.Create(name, config);
        torch.Tensor Sample(int n)
        {
            using var g = new torch.Generator(9);
            return SamplingLoop.Run(Model, scheduler, n, [2000, 2], g);
        }
        return (Sample(steps) - Sample(2 * steps)).norm(1).mean().item<float>();
    }
}
