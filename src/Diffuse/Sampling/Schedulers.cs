using Diffuse.Configuration;
namespace Diffuse.Sampling;

/// <summary>
/// Every scheduler by name, so that the CLI, the pipelines and outside programs reach them the same way.
/// A new scheduler is one file plus one line in <see cref="Entries"/>.
/// </summary>
public static class Schedulers
{
    /// <param name="ThresholdsOnly">The scheduler bounds x_0 by dynamic thresholding only (no <c>clip_sample</c>, as in diffusers).</param>
    private sealed record Entry(string Name, string Description, Func<SchedulerConfig, IScheduler> Create, bool Inverts = false, bool ThresholdsOnly = false);

    private static readonly Entry[] Entries =
    [
        new("ddpm", "DDPM ancestral sampling (Ho et al. 2020), stochastic; diffusers' DDPMScheduler", c => new DdpmScheduler(c)),
        new("ddim", "DDIM (Song et al. 2021), deterministic at eta 0, stochastic for eta > 0; diffusers' DDIMScheduler", c => new DdimScheduler(c)),
        new("ddim_inverse", "DDIM inversion (Song et al. 2021): deterministic DDIM from an image up to noise, for editing, timesteps ascending; diffusers' DDIMInverseScheduler", c => new DdimInverseScheduler(c), Inverts: true),
        new("euler", "Euler on the probability-flow ODE in sigma (Karras et al. 2022), deterministic; diffusers' EulerDiscreteScheduler", c => new EulerScheduler(c)),
        new("euler_ancestral", "ancestral Euler (k-diffusion), stochastic: fresh noise every step; diffusers' EulerAncestralDiscreteScheduler", c => new EulerAncestralScheduler(c)),
        new("heun", "Heun's second-order method (Karras et al. 2022, Algorithm 1), two model calls per step, deterministic; diffusers' HeunDiscreteScheduler", c => new HeunScheduler(c)),
        new("lms", "linear multistep of order 4 in sigma (k-diffusion), deterministic; diffusers' LMSDiscreteScheduler", c => new LmsScheduler(c)),
        new("dpm2", "DPM-Solver-2 in sigma (k-diffusion), a second call at the log-sigma midpoint, deterministic; diffusers' KDPM2DiscreteScheduler", c => new Dpm2Scheduler(c)),
        new("dpm2_ancestral", "ancestral DPM-Solver-2 (k-diffusion), stochastic: fresh noise every step; diffusers' KDPM2AncestralDiscreteScheduler", c => new Dpm2AncestralScheduler(c)),
        new("dpmpp_2m", "DPM-Solver++ multistep (Lu et al. 2022), orders 1-3, ODE or SDE; diffusers' DPMSolverMultistepScheduler", c => new DpmSolverMultistepScheduler(c), ThresholdsOnly: true),
        new("dpmpp_2m_sde", "DPM-Solver++(2M) SDE: dpmpp_2m with algorithm_type sde-dpmsolver++ and solver_order 2, stochastic",
            c => new DpmSolverMultistepScheduler(c with { AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus, SolverOrder = 2 }, "dpmpp_2m_sde"), ThresholdsOnly: true),
        new("dpmpp_3m_sde", "DPM-Solver++(3M) SDE: dpmpp_2m with algorithm_type sde-dpmsolver++ and solver_order 3, stochastic",
            c => new DpmSolverMultistepScheduler(c with { AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus, SolverOrder = 3 }, "dpmpp_3m_sde"), ThresholdsOnly: true),
        new("dpmpp_2s", "singlestep DPM-Solver / DPM-Solver++ (Lu et al. 2022), orders 1-3 in blocks from one sample, ODE or SDE; diffusers' DPMSolverSinglestepScheduler", c => new DpmSolverSinglestepScheduler(c), ThresholdsOnly: true),
        new("dpmpp_2s_ancestral", "ancestral DPM-Solver++(2S) (k-diffusion), a second call at the log-sigma midpoint, stochastic: fresh noise every step", c => new DpmPp2SAncestralScheduler(c)),
        new("unipc", "UniPC multistep predictor-corrector (Zhao et al. 2023), bh1/bh2, orders 1-3; diffusers' UniPCMultistepScheduler", c => new UniPcMultistepScheduler(c), ThresholdsOnly: true),
        new("pndm", "PNDM (Liu et al. 2022): Runge-Kutta warm-up then 4-step linear multistep (PLMS with skip_prk_steps), deterministic; diffusers' PNDMScheduler", c => new PndmScheduler(c)),
        new("deis", "DEIS multistep exponential integrator (Zhang & Chen 2023), log-rho polynomial, orders 1-3, deterministic; diffusers' DEISMultistepScheduler", c => new DeisMultistepScheduler(c), ThresholdsOnly: true),
    ];

    /// <summary>The registered names, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Entries.Select(e => e.Name).ToArray());

    /// <summary>Creates the scheduler <paramref name="name"/> from a JSON config (empty: all defaults).</summary>
    public static IScheduler Create(string name, string configJson) => Create(name, SchedulerConfig.FromJson(configJson));

    /// <summary>Creates the scheduler <paramref name="name"/>; an unknown name, an unknown config key or a bad value is a <see cref="DiffuseException"/>.</summary>
    public static IScheduler Create(string name, SchedulerConfig config) => Find(name).Create(config);

    /// <summary>Whether <paramref name="name"/> inverts (image to noise, timesteps ascending, as <c>ddim_inverse</c>) rather than samples.</summary>
    public static bool Inverts(string name) => Find(name).Inverts;

    /// <summary>
    /// <paramref name="config"/> as a model whose data lies in [-1, 1] (<c>clip_sample</c> true with range 1, as image models)
    /// should run <paramref name="name"/>: DDPM and DDIM clip x_0 themselves, while the DPM-Solver family, UniPC and DEIS have
    /// no <c>clip_sample</c> in diffusers, only dynamic thresholding (Saharia et al. 2022), which with <c>sample_max_value</c> 1
    /// is exactly that clip, so it is turned on for them. Other configs and schedulers come back unchanged (the sigma-based
    /// samplers have neither key in diffusers and run unclipped).
    /// </summary>
    public static SchedulerConfig ForBoundedData(string name, SchedulerConfig config) =>
        Find(name).ThresholdsOnly && config.ClipSample == true && config.ClipSampleRange == 1 && !config.Thresholding
            ? config with { Thresholding = true, SampleMaxValue = 1 }
            : config;

    /// <summary>One line saying what the scheduler <paramref name="name"/> is.</summary>
    public static string Describe(string name) => Find(name).Description;

    private static Entry Find(string name) =>
        Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new DiffuseException($"unknown scheduler '{name}'; expected one of: {string.Join(", ", Names)}");
}
