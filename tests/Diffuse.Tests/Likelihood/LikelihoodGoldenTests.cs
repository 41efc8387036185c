using Diffuse.Configuration;
using System.Text.Json;
using Diffuse.Likelihood;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Likelihood;

/// <summary>The bound's pieces against tests/golden/likelihood.json (tests/golden/make_likelihood_golden.py, PyTorch restating improved-diffusion).</summary>
public class LikelihoodGoldenTests
{
    private static readonly Lazy<JsonElement> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "golden", "likelihood.json");
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
        }
        throw new FileNotFoundException("tests/golden/likelihood.json not found above " + AppContext.BaseDirectory);
    });

    private static Tensor Values(string section, string name, params long[] shape)
    {
        var values = Root.Value.GetProperty(section).GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return tensor(values, float64).reshape(shape.Length == 0 ? [values.Length] : shape);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        var error = (expected - actual).abs().max().item<double>();
        Assert.True(error <= tolerance, $"max |difference| {error} > {tolerance}");
    }

    [Fact]
    public void NormalKlMatchesPyTorch()
    {
        using var scope = NewDisposeScope();
        var kl = GaussianLikelihoods.NormalKl(Values("normal_kl", "mean1"), Values("normal_kl", "logvar1"), Values("normal_kl", "mean2"), Values("normal_kl", "logvar2"));
        AssertClose(Values("normal_kl", "kl"), kl, 1e-12);
    }

    [Fact]
    public void DiscretizedGaussianLogLikelihoodMatchesPyTorchAndIsAProbability()
    {
        using var scope = NewDisposeScope();
        var logProbs = GaussianLikelihoods.DiscretizedGaussianLogLikelihood(Values("discretized", "x"), Values("discretized", "means"), Values("discretized", "log_scales"));
        AssertClose(Values("discretized", "log_probs"), logProbs, 1e-12);
        // Over all 256 bins the masses sum to one (the edge bins reach to -inf and +inf).
        var bins = arange(256, float64) / 127.5 - 1;
        var total = GaussianLikelihoods.DiscretizedGaussianLogLikelihood(bins, full_like(bins, 0.3), full_like(bins, Math.Log(0.2))).exp().sum().item<double>();
        Assert.Equal(1.0, total, 1e-9);
    }

    [Fact]
    public void HybridLossMatchesImprovedDiffusion()
    {
        using var scope = NewDisposeScope();
        var h = Root.Value.GetProperty("hybrid");
        var schedule = NoiseSchedule.Create(BetaSchedule.Linear, h.GetProperty("num_timesteps").GetInt32(), h.GetProperty("beta_start").GetDouble(), h.GetProperty("beta_end").GetDouble());
        var bound = new VariationalBound(new GaussianDiffusion(schedule, PredictionType.Epsilon), ReverseVariance.LearnedRange, DataDecoder.Discretized8Bit);
        var loss = new HybridLoss(bound);
        var t = tensor(h.GetProperty("t").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var output = cat([Values("hybrid", "eps", 3, 2, 2, 2), Values("hybrid", "v", 3, 2, 2, 2)], 1);
        var terms = loss.Terms(output, Values("hybrid", "x0", 3, 2, 2, 2), Values("hybrid", "noise", 3, 2, 2, 2), t);
        AssertClose(Values("hybrid", "mse"), terms.Mse, 1e-12);
        AssertClose(Values("hybrid", "vb_bits") * (10 / 1000.0), terms.Vb, 1e-9);
        AssertClose(Values("hybrid", "loss"), terms.Loss, 1e-9);
    }

    [Fact]
    public void TheBoundTermTrainsOnlyTheVarianceChannels()
    {
        using var scope = NewDisposeScope();
        var schedule = NoiseSchedule.Create(BetaSchedule.Linear, 10, 0.001, 0.2);
        var bound = new VariationalBound(new GaussianDiffusion(schedule, PredictionType.Epsilon), ReverseVariance.LearnedRange, DataDecoder.ContinuousGaussian);
        var loss = new HybridLoss(bound);
        using var g = new Generator(3);
        var x0 = randn(new long[] { 4, 3 }, float64, generator: g);
        var noise = randn(new long[] { 4, 3 }, float64, generator: g);
        var output = randn(new long[] { 4, 6 }, float64, generator: g).requires_grad_(true);
        var t = tensor(new long[] { 0, 3, 6, 9 });
        var terms = loss.Terms(output, x0, noise, t);
        var fromLoss = torch.autograd.grad([terms.Loss.sum()], [output], retain_graph: true)[0];
        var fromMse = torch.autograd.grad([terms.Mse.sum()], [output], retain_graph: true)[0];
        var fromVb = torch.autograd.grad([terms.Vb.sum()], [output], retain_graph: true)[0];
        // The mean's channels see only L_simple; the variance's channels only L_vlb (stop-gradient, Nichol & Dhariwal 2021, Sec. 3.1).
        AssertClose(fromMse.narrow(1, 0, 3), fromLoss.narrow(1, 0, 3), 1e-15);
        Assert.Equal(0.0, fromVb.narrow(1, 0, 3).abs().max().item<double>());
        Assert.True(fromVb.narrow(1, 3, 3).abs().max().item<double>() > 0);
        Assert.Throws<DiffuseException>(() => new HybridLoss(new VariationalBound(bound.Diffusion, ReverseVariance.FixedSmall, DataDecoder.ContinuousGaussian)));
    }

    [Fact]
    public void LossAwareSamplerIsUniformUntilWarmThenFollowsTheSecondMoment()
    {
        using var scope = NewDisposeScope();
        var sampler = new LossAwareTimestepSampler(4, historyPerTerm: 2, uniformProbability: 0.1);
        Assert.Equal([0.25, 0.25, 0.25, 0.25], sampler.Probabilities());
        // Losses 1, 1, 2, 4 at t = 0..3 (the oldest of three is pushed out), still cold after one round.
        sampler.Update(tensor(new long[] { 0, 1, 2, 3 }), tensor(new[] { 9.0, 1.0, 2.0, 4.0 }));
        Assert.False(sampler.WarmedUp);
        sampler.Update(tensor(new long[] { 0, 1, 2, 3, 0 }), tensor(new[] { 1.0, 1.0, 2.0, 4.0, 1.0 }));
        Assert.True(sampler.WarmedUp);
        var p = sampler.Probabilities();
        double[] expected = new[] { 1.0, 1.0, 2.0, 4.0 }.Select(w => w / 8 * 0.9 + 0.1 / 4).ToArray();
        for (int t = 0; t < 4; t++) Assert.Equal(expected[t], p[t], 1e-12);
        using var g = new Generator(5);
        var draw = sampler.Sample(20000, g);
        var counts = bincount(draw.Timesteps, minlength: 4).to_type(float64) / 20000;
        for (int t = 0; t < 4; t++) Assert.Equal(expected[t], counts[t].item<double>(), 0.015);
        // The importance weights 1 / (T p_t) keep E[w L] equal to the uniform mean of L.
        AssertClose(1.0 / (tensor(expected).index_select(0, draw.Timesteps) * 4), draw.Weights, 1e-12);
        Assert.Equal(1.0, draw.Weights.mean().item<double>(), 0.05);
    }
}
