using Diffuse.Configuration;
using Diffuse.Evaluation;
using Diffuse.Ode;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.ScoreSampling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.ScoreSampling;

/// <summary>
/// The score samplers by name (<see cref="ScoreSamplers"/>), run on closed-form scores: every one must reproduce a
/// known Gaussian, count its network evaluations, and refuse what does not apply in one line.
/// </summary>
public class ScoreSamplersTests
{
    private const double Std = 0.5;

    private static GaussianMixture Gaussian() => new(new double[,] { { 0.3, -0.2 } }, [Std], [1.0]);

    public static IEnumerable<object[]> Runs() =>
    [
        [ScoreSamplers.PredictorCorrector, "vp"],
        [ScoreSamplers.ReverseDiffusion, "vp"],
        [ScoreSamplers.EulerMaruyama, "subvp"],
        [ScoreSamplers.Langevin, "vp"],
        [ScoreSamplers.ProbabilityFlowOde, "vp"],
        [ScoreSamplers.PredictorCorrector, "ve"],
        [ScoreSamplers.AnnealedLangevin, "ve"],
    ];

    static Sde SdeFor(string kind, int steps) => kind switch
    {
        "vp" => new VpSde(discreteSteps: steps),
        "subvp" => new SubVpSde(discreteSteps: steps),
        _ => new VeSde(0.01, 5, steps),
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void EverySamplerDrawsTheGaussianAndCountsItsEvaluations(string name, string kind)
    {
        using var scope = NewDisposeScope();
        int steps = name == ScoreSamplers.AnnealedLangevin ? 10 : 200;
        // Langevin alone must mix at every level by itself: more corrector steps (its noise-free last step shrinks the spread by 1 - 2 snr^2).
        bool langevin = name == ScoreSamplers.Langevin;
        var settings = new ScoreSamplerSettings
        {
            Name = name, Steps = steps, Eps = kind == "ve" ? 1e-5 : 1e-3, Snr = 0.1, CorrectorSteps = langevin ? 10 : null,
        };
        var sde = SdeFor(kind, steps);
        using var data = Gaussian();
        using var g = new Generator(5);
        long calls = 0;
        var exact = data.ScoreUnder(sde);
        var result = ScoreSamplers.Run(sde, (x, t) => { calls++; return exact(x, t); }, [3000, 2], g, settings, dtype: ScalarType.Float64);
        var mean = result.Samples.mean([0]).data<double>().ToArray();
        var std = result.Samples.std([0]).data<double>().ToArray();
        Assert.True(Math.Abs(mean[0] - 0.3) < 0.04 && Math.Abs(mean[1] + 0.2) < 0.04, $"{name} on {kind}: mean {mean[0]:F3}, {mean[1]:F3}");
        Assert.True(Math.Abs(std[0] - Std) < 0.05 && Math.Abs(std[1] - Std) < 0.05, $"{name} on {kind}: std {std[0]:F3}, {std[1]:F3}, expected {Std}");
        Assert.Equal(calls, result.FunctionEvaluations);
        if (ScoreSamplers.PlannedEvaluations(settings) is { } planned) Assert.Equal(planned, calls);
    }

    [Fact]
    public void PlannedEvaluationsFollowTheSamplers()
    {
        Assert.Equal(2000, ScoreSamplers.PlannedEvaluations(new ScoreSamplerSettings { Name = "pc", Steps = 1000 }));
        Assert.Equal(3000, ScoreSamplers.PlannedEvaluations(new ScoreSamplerSettings { Name = "pc", Steps = 1000, CorrectorSteps = 2 }));
        Assert.Equal(500, ScoreSamplers.PlannedEvaluations(new ScoreSamplerSettings { Name = "reverse_diffusion", Steps = 500 }));
        Assert.Equal(1001, ScoreSamplers.PlannedEvaluations(new ScoreSamplerSettings { Name = "annealed_langevin", Steps = 10 }));
        Assert.Null(ScoreSamplers.PlannedEvaluations(new ScoreSamplerSettings { Name = "ode" }));
    }

    [Fact]
    public void WhatDoesNotApplyIsAOneLineError()
    {
        using var data = Gaussian();
        using var g = new Generator(1);
        var vp = new VpSde(discreteSteps: 20);
        var score = data.ScoreUnder(vp);
        void Refused(Action run, string fragment)
        {
            var e = Assert.Throws<DiffuseException>(run);
            Assert.Contains(fragment, e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
        Refused(() => ScoreSamplers.Run(vp, score, [4, 2], g, new ScoreSamplerSettings { Name = "annealed_langevin", Steps = 5 }), "VE SDE");
        Refused(() => ScoreSamplers.Run(vp, score, [4, 2], g, new ScoreSamplerSettings { Name = "pc", Steps = 30 }), "WithDiscreteSteps");
        Refused(() => ScoreSamplers.Run(vp, score, [4, 2], g, new ScoreSamplerSettings { Name = "ddim", Steps = 20 }), "unknown score sampler");
        Refused(() => new ScoreSamplerSettings { Name = "ode", Tolerances = new OdeTolerances(0, 1e-5) }.Validate(), "rtol");
        Refused(() => new ScoreSamplerSettings { Name = "ode", Tolerances = new OdeTolerances(1e-5, -1) }.Validate(), "atol");
        Refused(() => new ScoreSamplerSettings { Name = "langevin", CorrectorSteps = 0 }.Validate(), "corrector_steps");
        Refused(() => new ScoreSamplerSettings { Name = "euler_maruyama", CorrectorSteps = 1 }.Validate(), "corrector_steps");
        Refused(() => new ScoreSamplerSettings { Name = "pc", Snr = 0 }.Validate(), "snr");
        Refused(() => new ScoreSamplerSettings { Name = "pc", Steps = 1 }.Validate(), "at least 2");
    }

    [Fact]
    public void ResampledSdesKeepTheirMarginalsAndChainTheWholeDecay()
    {
        foreach (Sde sde in new Sde[] { new VpSde(0.1, 20, 1000), new SubVpSde(0.1, 20, 1000), new VeSde(0.01, 50, 1000) })
        {
            var coarse = sde.WithDiscreteSteps(100);
            Assert.Equal(100, coarse.DiscreteSteps);
            Assert.Equal(sde.GetType(), coarse.GetType());
            foreach (var t in new[] { 0.01, 0.3, 0.77, 1.0 })
            {
                Assert.Equal(sde.MeanScale(t), coarse.MeanScale(t), 12);
                Assert.Equal(sde.MarginalStd(t), coarse.MarginalStd(t), 12);
                Assert.Equal(sde.Diffusion(t), coarse.Diffusion(t), 12);
            }
        }
        // The cosine table's own chain, and a coarser one whose betas still multiply out to abar(1).
        var table = NoiseSchedule.FromConfig(new SchedulerConfig { BetaSchedule = BetaSchedule.SquaredcosCapV2 }).AlphasCumprod;
        var interpolated = new InterpolatedVpSde(table);
        var same = interpolated.WithDiscreteSteps(table.Length);
        for (int i = 0; i < table.Length; i += 97)
        {
            double t = (i + 0.5) / (table.Length - 1);
            Assert.Equal(interpolated.Discretize(t).NoiseScale, same.Discretize(t).NoiseScale, 9);
        }
        foreach (int n in new[] { 50, 333 })
        {
            var resampled = interpolated.WithDiscreteSteps(n);
            double logProduct = 0;
            for (int i = 0; i < n; i++)
            {
                double g = resampled.Discretize(Math.Min(1, (i + 0.5) / (n - 1))).NoiseScale;
                logProduct += Math.Log(1 - g * g);
            }
            Assert.Equal(Math.Log(table[^1]), logProduct, 6);
            Assert.Equal(interpolated.MarginalStd(0.4), resampled.MarginalStd(0.4), 12);
        }
    }
}
