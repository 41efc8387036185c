using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>diffusers' <c>variance_type</c> learned / learned_range in the DPM-Solvers: the variance half of a 2C-channel output is not read.</summary>
public class DpmSolverLearnedVarianceTests
{
    public static TheoryData<string, AlgorithmType, PredictionType, VarianceType> Runs => new()
    {
        { "dpmpp_2m", AlgorithmType.DpmsolverPlusPlus, PredictionType.Epsilon, VarianceType.Learned },
        { "dpmpp_2m", AlgorithmType.Dpmsolver, PredictionType.Epsilon, VarianceType.LearnedRange },
        { "dpmpp_2m", AlgorithmType.SdeDpmsolverPlusPlus, PredictionType.VPrediction, VarianceType.LearnedRange },
        { "dpmpp_2s", AlgorithmType.DpmsolverPlusPlus, PredictionType.Epsilon, VarianceType.LearnedRange },
        { "dpmpp_2s", AlgorithmType.Dpmsolver, PredictionType.Sample, VarianceType.Learned },
        { "dpmpp_2s", AlgorithmType.SdeDpmsolverPlusPlus, PredictionType.Epsilon, VarianceType.Learned },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void TheVarianceChannelsDoNotChangeTheRun(string name, AlgorithmType algorithm, PredictionType type, VarianceType variance)
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { NumTrainTimesteps = 1000, AlgorithmType = algorithm, PredictionType = type, SolverOrder = 3, FinalSigmasType = FinalSigmasType.SigmaMin };
        var plain = Run(Schedulers.Create(name, config), x => ReferenceInputs.Model(x.x, x.t));
        var learned = Run(Schedulers.Create(name, config with { VarianceType = variance }),
            x => torch.cat([ReferenceInputs.Model(x.x, x.t), torch.full_like(x.x, 1e6)], 1)); // garbage variance
        Assert.True(plain.isfinite().all().item<bool>());
        Assert.True(plain.eq(learned).all().item<bool>(), "a learned-variance run differs from the run of its prediction channels");
    }

    [Theory]
    [InlineData("dpmpp_2m", 3)]
    [InlineData("dpmpp_2m", 5)]
    [InlineData("dpmpp_2s", 3)]
    public void AnOutputWithoutTwiceTheChannelsIsAnError(string name, int channels)
    {
        using var scope = torch.NewDisposeScope();
        var run = Schedulers.Create(name, new SchedulerConfig { VarianceType = VarianceType.Learned }).Begin(10);
        var x = ReferenceInputs.SampleDeter();
        var e = Assert.Throws<DiffuseException>(() => run.Step(torch.zeros(4, channels, 8, 8), run.Timesteps[0], x, generators: null));
        Assert.Contains(name, e.Message);
        Assert.Contains("variance_type learned", e.Message);
        Assert.Contains($"[4, {channels}, 8, 8]", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static torch.Tensor Run(IScheduler scheduler, Func<(torch.Tensor x, double t), torch.Tensor> model)
    {
        var run = scheduler.Begin(10);
        var x = ReferenceInputs.SampleDeter();
        using var g = new torch.Generator(0);
        var ts = run.Timesteps.data<long>().ToArray();
        for (var i = 0; i < ts.Length; i++)
        {
            using var step = torch.NewDisposeScope();
            x = run.Step(model((run.ScaleModelInput(x, run.Timesteps[i]), ts[i])), run.Timesteps[i], x, g).PrevSample.MoveToOuterDisposeScope();
        }
        return x;
    }
}
