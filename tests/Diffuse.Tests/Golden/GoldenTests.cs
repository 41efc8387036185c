using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Sampling;
using Diffuse.Schedules;
using Diffuse.Tests.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Golden;

/// <summary>Values computed by tests/golden/make_golden.py with PyTorch, beyond the configs diffusers' tests cover.</summary>
public class GoldenTests
{
    public static IEnumerable<object[]> Schedules => GoldenFile.Cases("schedules");
    public static IEnumerable<object[]> Loops => GoldenFile.Cases("loops");

    [Theory]
    [MemberData(nameof(Schedules))]
    public void ScheduleTablesMatchPyTorch(int index)
    {
        var g = GoldenFile.Case("schedules", index);
        var schedule = NoiseSchedule.Create(
            Json.ParseEnum<BetaSchedule>(g.GetProperty("beta_schedule").GetString()!, "beta_schedule"),
            g.GetProperty("num_train_timesteps").GetInt32(), g.GetProperty("beta_start").GetDouble(), g.GetProperty("beta_end").GetDouble(),
            g.GetProperty("rescale_betas_zero_snr").GetBoolean());
        var (betas, abar) = (schedule.Betas, schedule.AlphasCumprod);
        var indices = g.GetProperty("indices").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var (wantBetas, wantAbar) = (g.Doubles("betas"), g.Doubles("alphas_cumprod"));
        // The rescale's float32 chain (cumprod, sqrt, ratio, 1 - ratio) rounds differently in PyTorch 1.13 and
        // libtorch 2.10; both land within a few 1e-6 of the float64 result, on either side.
        var (relative, absolute) = g.GetProperty("rescale_betas_zero_snr").GetBoolean() ? (2e-5, 5e-6) : (1e-6, 1e-12);
        for (var k = 0; k < indices.Length; k++)
        {
            Assert.Equal(wantBetas[k], betas[indices[k]], relative * Math.Abs(wantBetas[k]) + absolute);
            Assert.Equal(wantAbar[k], abar[indices[k]], relative * Math.Abs(wantAbar[k]) + absolute);
        }
        Assert.Equal(g.GetProperty("alphas_cumprod_sum").GetDouble(), abar.Sum(), 1e-5 * abar.Sum());
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void SchedulerLoopsMatchPyTorch(int index) => LoopMatches(GoldenFile.Case("loops", index));

    /// <summary>Loop A of a golden case (scheduler, config, steps, seed) lands on its sum, mean and slice of |x|.</summary>
    internal static void LoopMatches(System.Text.Json.JsonElement g)
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create(g.GetProperty("scheduler").GetString()!, g.GetProperty("config").GetRawText());
        var seed = g.GetProperty("seed");
        using var generator = seed.ValueKind == System.Text.Json.JsonValueKind.Null ? null : new torch.Generator(seed.GetUInt64());
        var x = ReferenceInputs.LoopA(scheduler, g.GetProperty("steps").GetInt32(), ReferenceInputs.SampleDeter(), generator);
        var (sum, mean) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(g.GetProperty("sum").GetDouble(), sum, 1e-2);
        Assert.Equal(g.GetProperty("mean").GetDouble(), mean, 1e-3);
        var slice = x.reshape(-1).data<float>().ToArray().Where((_, i) => i % 85 == 0).Take(9).ToArray();
        var want = g.Doubles("slice_every_85");
        for (var k = 0; k < want.Length; k++) Assert.Equal(want[k], slice[k], 1e-4);
    }
}
