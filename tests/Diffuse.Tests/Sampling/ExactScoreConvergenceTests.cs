using Diffuse.Configuration;
using Diffuse.Evaluation;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Sampling;

/// <summary>
/// Every registered sampler, driven by the exact denoiser of a Gaussian N(mu, s^2), must land on
/// that Gaussian. Unlike a constant x_0 oracle, the exact denoiser changes with t, so the
/// higher-order terms of multistep and SDE solvers are exercised (a sign error in DPM-Solver++(3M)
/// SDE's third-order coefficient made it diverge as the step count grew).
/// </summary>
public class ExactScoreConvergenceTests
{
    const double Mu = 0.5, S = 0.5;

    /// <summary>Every sampler; an inversion (ddim_inverse) goes the other way and has its own round-trip test.</summary>
    public static IEnumerable<object[]> Names() => Schedulers.Names.Where(n => !Schedulers.Inverts(n)).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Names))]
    public void LandsOnTheGaussian(string name)
    {
        var config = new SchedulerConfig { ClipSample = false, NumTrainTimesteps = 1000 };
        var schedule = NoiseSchedule.FromConfig(config);
        var trainSigmas = Enumerable.Range(0, schedule.NumTrainTimesteps).Select(schedule.Sigma).ToArray();
        using var gaussian = new GaussianMixture(new double[,] { { Mu } }, [S], [1.0]);
        Tensor Model(Tensor x, Tensor t)
        {
            double sigma = SigmaSchedules.Interpolate(t[0].to_type(ScalarType.Float64).item<double>(), trainSigmas);
            double abar = 1 / (1 + sigma * sigma);
            using var x0 = gaussian.Denoise(x, abar);
            return (x - x0 * Math.Sqrt(abar)) / Math.Sqrt(1 - abar);
        }
        var scheduler = Schedulers.Create(name, config);
        // First-order ancestral samplers (ddpm, euler_ancestral) under-disperse by about 6% at 100 steps; 250 brings every sampler within 5%.
        int steps = scheduler.Begin(250).Order > 1 ? 125 : 250;
        using var g = new Generator(3);
        using var x = SamplingLoop.Run(Model, scheduler, steps, [8000, 1], g);
        double mean = x.mean().item<float>(), std = x.std().item<float>();
        Assert.True(Math.Abs(mean - Mu) < 0.03, $"{name}: mean {mean}, expected {Mu}");
        Assert.True(Math.Abs(std - S) < 0.05 * S, $"{name}: std {std}, expected {S}");
    }
}
