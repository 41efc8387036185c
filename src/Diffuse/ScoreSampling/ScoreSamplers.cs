using Diffuse.Likelihood;
using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.ScoreSampling;

/// <summary>Samples drawn by a score-based sampler, with the number of score (network) evaluations they took.</summary>
public sealed record ScoreSample(Tensor Samples, long FunctionEvaluations);

/// <summary>
/// The samplers of the score-SDE view by name (Song et al. 2021, arXiv:2011.13456; Song &amp; Ermon 2019), run on any
/// model's <see cref="Sde"/> and <see cref="ScoreFunction"/>: a continuous-time SDE model's, or a discrete DDPM model
/// seen as a VP SDE (<see cref="ContinuousTimeModel"/>). They are the continuous-time counterparts of the
/// <see cref="Sampling.Schedulers"/>, which step a discrete timestep grid.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>pc</term><description>reverse-diffusion predictor + Langevin corrector (Algorithm 1; score_sde's default PC sampler)</description></item>
/// <item><term>reverse_diffusion</term><description>the predictor alone (ancestral sampling of the SDE's own chain)</description></item>
/// <item><term>euler_maruyama</term><description>Euler-Maruyama on the reverse SDE (Eq. 6)</description></item>
/// <item><term>langevin</term><description>the corrector alone: Langevin MCMC annealed over the SDE's noise levels</description></item>
/// <item><term>ode</term><description>the probability-flow ODE (Eq. 13) with adaptive Dormand-Prince RK45</description></item>
/// <item><term>annealed_langevin</term><description>NCSN's annealed Langevin dynamics (VE SDEs only)</description></item>
/// </list>
/// </remarks>
public static class ScoreSamplers
{
    public const string PredictorCorrector = "pc";
    public const string ReverseDiffusion = "reverse_diffusion";
    public const string EulerMaruyama = "euler_maruyama";
    public const string Langevin = "langevin";
    public const string ProbabilityFlowOde = "ode";
    public const string AnnealedLangevin = "annealed_langevin";

    public static IReadOnlyList<string> Names { get; } =
        [PredictorCorrector, ReverseDiffusion, EulerMaruyama, Langevin, ProbabilityFlowOde, AnnealedLangevin];

    public static bool IsScoreSampler(string name) => Names.Contains(name);

    public static string Describe(string name) => name switch
    {
        PredictorCorrector => "predictor-corrector: reverse diffusion + Langevin corrector at --snr (Song et al. 2021, Alg. 1); 2 NFE a step",
        ReverseDiffusion => "the reverse-diffusion predictor alone (Song et al. 2021, Eq. 47): ancestral sampling of the SDE's chain",
        EulerMaruyama => "Euler-Maruyama on the reverse-time SDE (Song et al. 2021, Eq. 6)",
        Langevin => "Langevin corrector alone, annealed over the SDE's noise levels at --snr (Song et al. 2021, Sec. 4.2)",
        ProbabilityFlowOde => "probability-flow ODE with adaptive RK45 (--rtol, --atol; Song et al. 2021, Eq. 13); deterministic",
        AnnealedLangevin => "NCSN's annealed Langevin dynamics (Song & Ermon 2019, Alg. 1); VE SDE models only",
        _ => throw new DiffuseException($"unknown score sampler '{name}'; expected one of: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// Network evaluations of a run of <paramref name="settings"/>, where they are fixed in advance (all but the ODE).
    /// </summary>
    public static long? PlannedEvaluations(ScoreSamplerSettings settings)
    {
        long n = settings.Steps, c = settings.EffectiveCorrectorSteps;
        return settings.Name switch
        {
            PredictorCorrector => n * (1 + c),
            ReverseDiffusion or EulerMaruyama => n,
            Langevin => n * c,
            AnnealedLangevin => n * c + 1,
            _ => null,
        };
    }

    /// <summary>
    /// Draws samples of <paramref name="shape"/> from <paramref name="sde"/>'s prior and runs the named sampler with
    /// <paramref name="score"/>; every random draw comes from <paramref name="generators"/> (per sample, or shared). The SDE's
    /// <see cref="Sde.DiscreteSteps"/> must equal <see cref="ScoreSamplerSettings.Steps"/> for the chain samplers.
    /// <paramref name="progress"/> hears of every score evaluation: the count so far of the planned total (for the ODE,
    /// of 1000 parts of the time interval).
    /// </summary>
    public static ScoreSample Run(Sde sde, ScoreFunction score, long[] shape, SampleGenerators generators, ScoreSamplerSettings settings,
        IProgress<(long Done, long Total, double Time)>? progress = null, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        settings.Validate();
        long? planned = PlannedEvaluations(settings);
        if (planned is not null && settings.Name != AnnealedLangevin && sde.DiscreteSteps != settings.Steps)
            throw new DiffuseException($"the SDE has {sde.DiscreteSteps} discretisation steps but the sampler runs {settings.Steps}; build it with WithDiscreteSteps");
        long calls = 0;
        double span = sde.T - settings.Eps;
        ScoreFunction counted = (x, t) =>
        {
            calls++;
            progress?.Report(planned is { } total
                ? (Math.Min(calls, total), total, t)
                : ((long)Math.Round(1000 * Math.Clamp((sde.T - t) / span, 0, 1)), 1000, t));
            return score(x, t);
        };
        Tensor samples;
        switch (settings.Name)
        {
            case ProbabilityFlowOde:
                var flow = new ProbabilityFlowOptions { Tolerances = settings.Tolerances, Eps = settings.Eps };
                var ode = ProbabilityFlow.Sample(sde, counted, shape, generators, flow, dtype);
                samples = ode.Sample;
                calls = ode.FunctionEvaluations;
                break;
            case AnnealedLangevin:
                if (sde is not VeSde ve)
                    throw new DiffuseException($"annealed_langevin needs a VE SDE (NCSN) model, but this model's SDE is {SdeName(sde)}; use pc or langevin");
                samples = ScoreSampling.AnnealedLangevin.Run(ve, counted, shape, generators, new AnnealedLangevinOptions
                {
                    Levels = settings.Steps, StepsPerLevel = settings.EffectiveCorrectorSteps, StepSize = settings.StepSize,
                }, dtype);
                break;
            default:
                var options = new PredictorCorrectorOptions
                {
                    Predictor = settings.Name switch
                    {
                        EulerMaruyama => Predictor.EulerMaruyama,
                        Langevin => Predictor.None,
                        _ => Predictor.ReverseDiffusion,
                    },
                    CorrectorSteps = settings.EffectiveCorrectorSteps,
                    Snr = settings.Snr,
                    Eps = settings.Eps,
                };
                samples = PredictorCorrectorSampler.Run(sde, counted, shape, generators, options, dtype);
                break;
        }
        try
        {
            return new ScoreSample(FiniteSamples.Require(samples), calls);
        }
        catch
        {
            samples.Dispose();
            throw;
        }
    }

    /// <summary>A short name of an SDE's family for messages.</summary>
    public static string SdeName(Sde sde) => sde switch
    {
        VeSde => "VE",
        SubVpSde => "sub-VP",
        _ => "VP",
    };
}
