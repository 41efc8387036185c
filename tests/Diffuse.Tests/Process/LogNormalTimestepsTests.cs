using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Training;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Process;

/// <summary>The log-normal timestep sampler: ln sigma(t) ~ N(P_mean, P_std^2) carried to discrete timesteps.</summary>
public class LogNormalTimestepsTests
{
    static readonly NoiseSchedule Linear = NoiseSchedule.Create(BetaSchedule.Linear, 1000);

    static double NormalCdf(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    // erf by its Taylor series (|x| small here), independent of libtorch's ndtr that the sampler uses.
    static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 400; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Theory]
    [InlineData(-1.2, 1.2)]
    [InlineData(0.5, 0.6)]
    public void EachTimestepHoldsTheLogNormalMassOfItsBin(double mean, double std)
    {
        var p = new LogNormalTimesteps(Linear, mean, std).Probabilities;
        Assert.Equal(1000, p.Length);
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.All(p, v => Assert.True(v >= 0));
        // The mass of the timesteps whose sigma lies in (a, b] is the normal mass of ln sigma between the bins' edges, which
        // lie within half a timestep's step in ln sigma of ln a and ln b: compare with the closed form at the edges.
        double Edge(int t) => (Math.Log(Linear.Sigma(t)) + Math.Log(Linear.Sigma(t + 1))) / 2;
        foreach (var (from, to) in new[] { (100, 300), (0, 50), (400, 999) })
        {
            double lower = from == 0 ? 0 : NormalCdf((Edge(from - 1) - mean) / std);
            double upper = to == 999 ? 1 : NormalCdf((Edge(to) - mean) / std);
            double mass = p.Skip(from).Take(to - from + 1).Sum();
            Assert.Equal(upper - lower, mass, 9);
        }
        // The mode of the draws sits where ln sigma(t) is nearest P_mean (per unit of ln sigma: p_t / bin width peaks there).
        var density = Enumerable.Range(1, 998).Select(t => (t, d: p[t] / (Edge(t) - Edge(t - 1)))).MaxBy(x => x.d).t;
        Assert.True(Math.Abs(Math.Log(Linear.Sigma(density)) - mean) < 0.05, $"density peaks at ln sigma {Math.Log(Linear.Sigma(density)):F3}, not {mean}");
    }

    [Fact]
    public void DrawsFollowTheProbabilitiesAndRepeatWithTheSeed()
    {
        var sampler = new LogNormalTimesteps(Linear, -1.2, 1.2);
        using var g1 = new torch.Generator(5);
        using var g2 = new torch.Generator(5);
        using var a = sampler.Sample(200_000, g1);
        using var b = sampler.Sample(200_000, g2);
        Assert.Equal(torch.ScalarType.Int64, a.dtype);
        Assert.True(a.equal(b).all().item<bool>());
        var logSigma = a.data<long>().ToArray().Select(t => Math.Log(Linear.Sigma((int)t))).ToArray();
        double m = logSigma.Average(), s = Math.Sqrt(logSigma.Select(x => (x - m) * (x - m)).Average());
        // ln sigma(t) ranges over [ln 0.01, ln 157] for the linear schedule: N(-1.2, 1.2^2) is hardly cut, so the draws keep
        // its mean and spread up to the bins' widths.
        Assert.InRange(m, -1.2 - 0.02, -1.2 + 0.02);
        Assert.InRange(s, 1.2 - 0.02, 1.2 + 0.02);
    }

    [Fact]
    public void ALogNormalRunDrawsItsTimestepsFromTheSampler()
    {
        var diffusion = new GaussianDiffusion(Linear, PredictionType.Epsilon);
        var seen = new List<long>();
        torch.Tensor Model(torch.Tensor x, torch.Tensor t) { seen.AddRange(t.data<long>().ToArray()); return torch.zeros_like(x); }
        using var x0 = torch.zeros([4096, 1, 2, 2]);
        var logNormal = new TrainingObjective(diffusion, new TrainingSpec { TimestepSampler = TimestepSampling.LogNormal, LogSigmaMean = 2, LogSigmaStd = 0.1 });
        using (var g = new torch.Generator(1)) logNormal.Loss(Model, x0, g).Dispose();
        // ln sigma ~ N(2, 0.1^2): sigma in about [5.5, 9.9], far from the middle timestep a uniform draw centres on.
        Assert.All(seen, t => Assert.InRange(Linear.Sigma((int)t), 5.0, 11.0));
        seen.Clear();
        var uniform = new TrainingObjective(diffusion, new TrainingSpec());
        using (var g = new torch.Generator(1)) uniform.Loss(Model, x0, g).Dispose();
        Assert.Contains(seen, t => Linear.Sigma((int)t) < 1);
    }

    [Fact]
    public void BadSettingsAreRefusedNamingTheKey()
    {
        Assert.Contains("log_sigma_mean", Assert.Throws<DiffuseException>(() => new TrainingSpec { LogSigmaMean = 0.5 }.Validate()).Message);
        Assert.Contains("log_sigma_std", Assert.Throws<DiffuseException>(() =>
            new TrainingSpec { TimestepSampler = TimestepSampling.LogNormal, LogSigmaStd = 0 }.Validate()).Message);
        Assert.Contains("positive", Assert.Throws<DiffuseException>(() => new LogNormalTimesteps(Linear, 0, -1)).Message);
    }
}
