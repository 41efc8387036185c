using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>
/// Every registered scheduler against every prediction type: a type outside the scheduler's
/// <see cref="IScheduler.SupportedPredictionTypes"/> (what the diffusers scheduler it follows accepts) is refused at
/// creation in one line; a supported one runs, and reads the model output by the closed forms of Ho et al. 2020
/// (Eq. 4) and Salimans &amp; Ho 2022 (v = a eps - s x_0), so that a run fed the sample or v equivalent of an eps model's
/// output follows the eps run (whose values diffusers' tests pin, <see cref="ReferenceVectorTests"/>).
/// </summary>
public class PredictionTypeContractTests
{
    public static IEnumerable<object[]> Cases =>
        Schedulers.Names.SelectMany(n => Enum.GetValues<PredictionType>().Select(t => new object[] { n, t }));

    private static IReadOnlyList<PredictionType> Supported(string name) => Schedulers.Create(name, new SchedulerConfig()).SupportedPredictionTypes;

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachTypeIsRefusedInOneLineOrRunsTenStepsToAFiniteSample(string name, PredictionType type)
    {
        var config = new SchedulerConfig { PredictionType = type };
        var supported = Supported(name);
        if (!supported.Contains(type))
        {
            var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(name, config));
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains(name, e.Message);
            Assert.Contains(Json.Name(type), e.Message);
            foreach (var ok in supported) Assert.Contains(Json.Name(ok), e.Message);
            return;
        }
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var x = ReferenceInputs.LoopA(Schedulers.Create(name, config), 10, ReferenceInputs.SampleDeter(), g);
        Assert.True(x.isfinite().all().item<bool>(), $"{name} with {Json.Name(type)}: not finite");
    }

    [Fact]
    public void EpsilonIsEverywhereAndSampleIsRefusedWhereDiffusersRaises()
    {
        Assert.All(Schedulers.Names, n => Assert.Contains(PredictionType.Epsilon, Supported(n)));
        foreach (var name in new[] { "euler_ancestral", "dpm2", "dpm2_ancestral", "pndm" })
            Assert.Equal(new[] { PredictionType.Epsilon, PredictionType.VPrediction }, Supported(name));
        foreach (var name in new[] { "ddpm", "ddim", "euler", "heun", "lms", "dpmpp_2m", "unipc", "deis" })
            Assert.Equal(Enum.GetValues<PredictionType>(), Supported(name));
    }

    /// <summary>
    /// Every supported non-epsilon type of every sampler but the inversions and PNDM, which (as diffusers) combines the raw
    /// outputs of several timesteps before reading them as eps, so a v output of the same model is not equivalent there.
    /// </summary>
    public static IEnumerable<object[]> Equivalents =>
        Cases.Where(c => (PredictionType)c[1] != PredictionType.Epsilon && !Schedulers.Inverts((string)c[0]) && (string)c[0] != "pndm"
                         && Supported((string)c[0]).Contains((PredictionType)c[1]));

    [Theory]
    [MemberData(nameof(Equivalents))]
    public void TheSameModelAsAnotherTypeGivesTheSameRun(string name, PredictionType type)
    {
        using var scope = torch.NewDisposeScope();
        var abar = NoiseSchedule.FromConfig(new SchedulerConfig()).AlphasCumprod;
        torch.Tensor Loop(PredictionType as_)
        {
            using var g = new torch.Generator(7);
            var run = Schedulers.Create(name, new SchedulerConfig { PredictionType = as_ }).Begin(10);
            var x = ReferenceInputs.SampleDeter() * run.InitNoiseSigma;
            var ts = run.Timesteps.to_type(torch.float64).data<double>().ToArray();
            for (var i = 0; i < ts.Length; i++)
            {
                using var stepScope = torch.NewDisposeScope();
                var t = run.Timesteps[i];
                var input = run.ScaleModelInput(x, t);
                // The abar of the model's input: the square of the input scale (sigma-based runs), else abar_t.
                var scale = run.ScaleModelInput(torch.ones(1, torch.float64), t).item<double>();
                var level = scale == 1 ? abar[(int)Math.Round(ts[i])] : scale * scale;
                var output = GaussianDiffusion.Convert(PredictionType.Epsilon, as_, ReferenceInputs.Model(input, ts[i]), input, level);
                x = run.Step(output, t, x, g).PrevSample.MoveToOuterDisposeScope();
            }
            return x;
        }
        var eps = Loop(PredictionType.Epsilon);
        var other = Loop(type);
        var error = (eps - other).abs().max().item<float>();
        Assert.True(error <= 1e-3 * Math.Max(1, eps.abs().max().item<float>()), $"{name} as {Json.Name(type)}: max difference {error}");
    }
}
