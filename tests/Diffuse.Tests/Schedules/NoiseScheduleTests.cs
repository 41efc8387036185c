using Diffuse.Configuration;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Schedules;

public class NoiseScheduleTests
{
    private static readonly BetaSchedule[] All = Enum.GetValues<BetaSchedule>();

    [Theory]
    [InlineData(1000)]
    [InlineData(4000)]
    [InlineData(10)]
    public void CosineAlphasCumprodIsTheCosSquaredRatio(int T)
    {
        var schedule = NoiseSchedule.Create(BetaSchedule.SquaredcosCapV2, T);
        var betas = schedule.Betas;
        var abar = schedule.AlphasCumprod;
        static double F(double s) => Math.Pow(Math.Cos((s + 0.008) / 1.008 * Math.PI / 2), 2);
        for (var t = 0; t < T && betas[t] < 0.999 - 1e-7; t++)
            Assert.True(Math.Abs(abar[t] / (F((t + 1.0) / T) / F(0)) - 1) < 2e-4, $"t={t}: {abar[t]} vs {F((t + 1.0) / T) / F(0)}");
        Assert.Equal(0.999, betas[T - 1], 1e-6); // the last beta is clipped (Nichol & Dhariwal 2021)
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(2)]
    public void LinearEndpointsAreBetaStartAndEnd(int T)
    {
        var betas = NoiseSchedule.Create(BetaSchedule.Linear, T, 1e-4, 0.02).Betas;
        Assert.Equal(1e-4, betas[0], 1e-9);
        Assert.Equal(0.02, betas[T - 1], 1e-9);
        Assert.Equal(T, betas.Length);
        for (var t = 1; t < T; t++) Assert.Equal((0.02 - 1e-4) / (T - 1), betas[t] - betas[t - 1], 1e-7);
    }

    [Fact]
    public void ScaledLinearSquareRootsAreEvenlySpacedBetweenTheEndpoints()
    {
        const int T = 1000;
        var betas = NoiseSchedule.Create(BetaSchedule.ScaledLinear, T, 0.00085, 0.012).Betas;
        Assert.Equal(0.00085, betas[0], 1e-9);
        Assert.Equal(0.012, betas[T - 1], 1e-9);
        var step = (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) / (T - 1);
        for (var t = 1; t < T; t++) Assert.Equal(step, Math.Sqrt(betas[t]) - Math.Sqrt(betas[t - 1]), 1e-6);
    }

    [Fact]
    public void SigmoidIsMonotoneWithSigmoidEndpoints()
    {
        const int T = 500;
        var betas = NoiseSchedule.Create(BetaSchedule.Sigmoid, T, 1e-4, 0.02).Betas;
        static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
        Assert.Equal(Sigmoid(-6) * (0.02 - 1e-4) + 1e-4, betas[0], 1e-8);
        Assert.Equal(Sigmoid(6) * (0.02 - 1e-4) + 1e-4, betas[T - 1], 1e-8);
        for (var t = 1; t < T; t++) Assert.True(betas[t] > betas[t - 1], $"not increasing at {t}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(1000)]
    [InlineData(4000)]
    public void ZeroTerminalSnrEndsAtExactlyZeroAndKeepsTheStart(int T)
    {
        foreach (var kind in All)
        {
            var plain = NoiseSchedule.Create(kind, T, 1e-4, 0.02);
            var rescaled = NoiseSchedule.Create(kind, T, 1e-4, 0.02, rescaleZeroTerminalSnr: true);
            Assert.Equal(0.0, rescaled.AlphasCumprod[T - 1]);
            Assert.Equal(0.0, rescaled.Snr(T - 1));
            Assert.True(double.IsPositiveInfinity(rescaled.Sigma(T - 1)));
            Assert.Equal(plain.AlphasCumprod[0], rescaled.AlphasCumprod[0], 1e-6);
            var abar = rescaled.AlphasCumprod;
            for (var t = 1; t < T; t++) Assert.True(abar[t] < abar[t - 1], $"{kind} T={T}: not decreasing at {t}");
        }
    }

    [Fact]
    public void OneTimestepWorksWithoutRescaleAndIsRefusedWithIt()
    {
        var one = NoiseSchedule.Create(BetaSchedule.Linear, 1, 1e-4, 0.02);
        Assert.Equal(new[] { 1e-4 }, one.Betas.Select(b => Math.Round(b, 9)));
        Assert.Equal(1 - 1e-4, one.AlphasCumprod[0], 1e-7);
        var e = Assert.Throws<DiffuseException>(() => NoiseSchedule.Create(BetaSchedule.Linear, 1, rescaleZeroTerminalSnr: true));
        Assert.Contains("rescale_betas_zero_snr", e.Message);
    }

    [Fact]
    public void TablesAreConsistent()
    {
        var s = NoiseSchedule.Create(BetaSchedule.Linear, 1000);
        var (betas, alphas, abar) = (s.Betas, s.Alphas, s.AlphasCumprod);
        var product = 1.0;
        for (var t = 0; t < 1000; t++)
        {
            Assert.Equal(1 - betas[t], alphas[t], 1e-7);
            product *= alphas[t];
            Assert.Equal(product, abar[t], 1e-5);
            Assert.Equal(abar[t] / (1 - abar[t]), s.Snr(t), 1e-12);
            Assert.Equal(Math.Sqrt((1 - abar[t]) / abar[t]), s.Sigma(t), 1e-12);
        }
        Assert.Equal(1000, s.NumTrainTimesteps);
    }

    [Fact]
    public void ArraysAreCopiesSoTheScheduleStaysImmutable()
    {
        var s = NoiseSchedule.Create(BetaSchedule.Linear, 10);
        s.AlphasCumprod[3] = 42;
        s.Betas[3] = 42;
        Assert.NotEqual(42, s.AlphasCumprod[3]);
        Assert.NotEqual(42, s.Betas[3]);
    }

    [Fact]
    public void AlphasCumprodTensorIsACachedFloat32AliasThatSurvivesItsCallersScope()
    {
        var s = NoiseSchedule.Create(BetaSchedule.Linear, 1000);
        using (torch.NewDisposeScope())
        {
            var a = s.AlphasCumprodTensor();
            Assert.Equal(torch.float32, a.dtype);
            Assert.Equal(new long[] { 1000 }, a.shape);
        }
        using var b = s.AlphasCumprodTensor(torch.CPU);
        var expected = s.AlphasCumprod;
        var actual = b.data<float>().ToArray();
        for (var t = 0; t < 1000; t += 37) Assert.Equal(expected[t], actual[t], 1e-7);
        using var gathered = b.index_select(0, torch.tensor(new long[] { 0, 999 }));
        Assert.Equal((float)expected[999], gathered[1].item<float>());
    }

    [Fact]
    public void FromConfigReadsTheScheduleKeys()
    {
        var c = new SchedulerConfig { NumTrainTimesteps = 50, BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.001, BetaEnd = 0.03, RescaleBetasZeroSnr = true };
        var s = NoiseSchedule.FromConfig(c);
        Assert.Equal(50, s.NumTrainTimesteps);
        Assert.Equal(0.0, s.AlphasCumprod[49]);
        Assert.Equal(1 - 0.001, s.AlphasCumprod[0], 1e-6);
    }

    [Theory]
    [InlineData(0, 1e-4, 0.02, "num_train_timesteps")]
    [InlineData(-5, 1e-4, 0.02, "num_train_timesteps")]
    [InlineData(100, 0.0, 0.02, "beta_start")]
    [InlineData(100, 1e-4, 1.5, "beta_end")]
    [InlineData(100, double.NaN, 0.02, "beta_start")]
    public void BadInputsAreOneLineDiffuseExceptions(int T, double start, double end, string mentioned)
    {
        var e = Assert.Throws<DiffuseException>(() => NoiseSchedule.Create(BetaSchedule.Linear, T, start, end));
        Assert.Contains(mentioned, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TimestepOutsideTheScheduleIsRefused()
    {
        var s = NoiseSchedule.Create(BetaSchedule.Linear, 10);
        Assert.Throws<DiffuseException>(() => s.Snr(10));
        Assert.Throws<DiffuseException>(() => s.Sigma(-1));
    }

    [Fact]
    public void BetasForAlphaBarClipsAtMaxBeta()
    {
        var betas = NoiseSchedule.BetasForAlphaBar(4, s => 1 - s, maxBeta: 0.9);
        var expected = new[] { 0.25, 1 - 0.5 / 0.75, 1 - 0.25 / 0.5, 0.9 };
        for (var i = 0; i < 4; i++) Assert.Equal(expected[i], betas[i], 1e-12);
    }
}
