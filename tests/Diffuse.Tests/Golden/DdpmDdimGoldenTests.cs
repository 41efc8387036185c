using Diffuse.Configuration;
using Diffuse.Sampling;
using Diffuse.Tests.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Golden;

/// <summary>
/// Values computed by tests/golden/make_ddpm_ddim_golden.py (a PyTorch restatement of diffusers' DDPM, DDIM and
/// DDIMInverse schedulers that first reproduces diffusers' own test values): DDPM's log and learned variance
/// types, thresholding in DDPM and DDIM, DDIM's use_clipped_model_output, and ddim_inverse's options.
/// </summary>
public class DdpmDdimGoldenTests
{
    private const string File = "ddpm_ddim.json";

    public static IEnumerable<object[]> Loops => GoldenFile.Cases("loops", File);

    /// <summary>The script's model: x t / (t + 1), with a second set of C channels for a learned variance type.</summary>
    private static torch.Tensor Model(torch.Tensor x, long t, VarianceType? variance)
    {
        var output = ReferenceInputs.Model(x, t);
        return variance switch
        {
            VarianceType.Learned => torch.cat([output, output * output * 0.01 + 1e-4], 1),
            VarianceType.LearnedRange => torch.cat([output, output.tanh()], 1),
            _ => output,
        };
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void LoopsMatchPyTorch(int index)
    {
        using var scope = torch.NewDisposeScope();
        var g = GoldenFile.Case("loops", index, File);
        var scheduler = Schedulers.Create(g.GetProperty("scheduler").GetString()!, g.GetProperty("config").GetRawText());
        var seed = g.GetProperty("seed");
        using var generator = seed.ValueKind == System.Text.Json.JsonValueKind.Null ? null : new torch.Generator(seed.GetUInt64());
        VarianceType? variance = scheduler.Name == "ddpm" ? scheduler.Config.VarianceType : null;
        var run = scheduler.Begin(g.GetProperty("steps").GetInt32());
        var x = ReferenceInputs.SampleDeter() * g.GetProperty("scale").GetDouble();
        foreach (var t in run.Timesteps.data<long>().ToArray())
        {
            using var stepScope = torch.NewDisposeScope();
            x = run.Step(Model(x, t, variance), torch.tensor(t), x, generator).PrevSample.MoveToOuterDisposeScope();
        }
        var (sum, mean) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(g.GetProperty("sum").GetDouble(), sum, 1e-2);
        Assert.Equal(g.GetProperty("mean").GetDouble(), mean, 1e-3);
        var slice = x.reshape(-1).data<float>().ToArray().Where((_, i) => i % 85 == 0).Take(9).ToArray();
        var want = g.Doubles("slice_every_85");
        for (var k = 0; k < want.Length; k++) Assert.Equal(want[k], slice[k], 1e-4);
    }
}
