using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.Ode;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;

namespace Diffuse.Cli;

/// <summary>
/// The sampler options of every command that samples: which sampler, its steps and its settings. Which of them apply
/// depends on the sampler: checked when the line is parsed if --sampler is given, else once the model's default is known.
/// </summary>
public sealed class SamplerOptions
{
    /// <summary>Samplers on the discrete timestep grid, to which Karras sigmas do not apply.</summary>
    static readonly string[] DiscreteSamplers = ["ddpm", "ddim", "pndm"];

    static readonly ScoreSamplerSettings ScoreDefaults = new();

    /// <summary>Null when every sampler is allowed, else what runs with the schedulers only (e.g. "super-resolution").</summary>
    readonly string? schedulersOnly;

    public Option<string?> Sampler { get; } = Opt.Parsed<string?>("--sampler",
        "a sampler from 'diffuse samplers' (default: dpmpp_2m_sde with Karras sigmas for images (ddim for img2img, upscale and cascades), ddpm for points, pc for continuous-time SDE models)", ParseSampler, helpName: "NAME");
    public Option<int?> Steps { get; } = Opt.OptionalInt("--steps",
        "sampling steps (default: every training timestep for ddpm and the score samplers pc, reverse_diffusion, euler_maruyama, langevin; " +
        "10 noise levels for annealed_langevin; 20 for dpmpp_2m_sde on images; 50 for the others)", 1);
    public Option<bool> Karras { get; } = new("--karras")
    {
        Description = "Karras et al. 2022 sigmas for the steps (sigma-based and multistep samplers; on by default for the image default dpmpp_2m_sde, '--karras false' turns them off)",
        Arity = ArgumentArity.ZeroOrOne,
    };
    public Option<string> Noise { get; } = Opt.Choice("--noise",
        "fresh gaussian step noise, or one Brownian tree per run so that the sample changes smoothly with --steps (euler_ancestral, dpm2_ancestral, dpmpp_*_sde)",
        "gaussian", "gaussian", "brownian", "brownian_tree");
    public Option<double?> Eta { get; } = Opt.OptionalDouble("--eta", "DDIM noise, 0 deterministic .. 1 DDPM-like (default 0; ddim only)", Bounds.Within(0, 1));
    public Option<double> Snr { get; } = Opt.Double("--snr", "pc, langevin: the Langevin corrector's signal-to-noise ratio", ScoreDefaults.Snr, new Bounds(0, MinExclusive: true, Max: 10));
    public Option<int?> CorrectorSteps { get; } = Opt.OptionalInt("--corrector-steps",
        "pc, langevin: corrector steps per step (default 1); annealed_langevin: per noise level (default 100)", 0, 10_000);
    public Option<double> StepSize { get; } = Opt.Double("--step-size", "annealed_langevin: the base step size", ScoreDefaults.StepSize, new Bounds(0, MinExclusive: true, Max: 1));
    public Option<double?> SChurn { get; } = Opt.OptionalDouble("--s-churn",
        "euler, heun: EDM's stochastic churn (Karras et al. 2022, Algorithm 2), the total extra noise over the run (default 0: off)", Bounds.Within(0, 1000));
    public Option<double?> STmin { get; } = Opt.OptionalDouble("--s-tmin", "euler, heun: churn only at sigmas of at least this (default 0)", Bounds.AtLeast(0));
    public Option<double?> STmax { get; } = Opt.OptionalDouble("--s-tmax", "euler, heun: churn only at sigmas of at most this (default: all)", Bounds.AtLeast(0));
    public Option<double?> SNoise { get; } = Opt.OptionalDouble("--s-noise", "euler, heun: the churn noise's scale (default 1)", new Bounds(0, MinExclusive: true, Max: 10));
    public Option<double> Rtol { get; } = Common.Rtol();
    public Option<double> Atol { get; } = Common.Atol();

    Option[] ScoreOnly => [Snr, CorrectorSteps, StepSize, Rtol, Atol];

    Option[] ChurnOptions => [SChurn, STmin, STmax, SNoise];

    /// <summary>The samplers EDM's churn applies to.</summary>
    static readonly string[] ChurnSamplers = ["euler", "heun"];

    /// <param name="schedulersOnly">What takes the schedulers only (its score-SDE options are then left out), or null.</param>
    public SamplerOptions(string? schedulersOnly = null) => this.schedulersOnly = schedulersOnly;

    /// <summary>Adds the options, and a check of the combination when --sampler is given.</summary>
    public void AddTo(Command command)
    {
        command.AddOptions(Sampler, Steps, Karras, Noise, Eta);
        command.AddOptions(ChurnOptions);
        if (schedulersOnly is null) command.AddOptions(ScoreOnly);
        command.Check(r => { if (r.GetValue(Sampler) is { } name) Resolve(r, name, 0, true); });
    }

    static string? ParseSampler(string name)
    {
        if (!Schedulers.Names.Contains(name) && !ScoreSamplers.IsScoreSampler(name))
            throw new UsageException($"unknown sampler '{name}'; expected one of: {string.Join(", ", Schedulers.Names.Concat(ScoreSamplers.Names))}");
        if (Schedulers.Names.Contains(name) && Schedulers.Inverts(name)) throw new UsageException($"'{name}' inverts images to noise; it is not a sampler");
        return name;
    }

    /// <summary>The default sampler of a model (the library's): pc for a continuous-time SDE model, dpmpp_2m_sde for images, ddpm for points.</summary>
    public static string DefaultFor(ModelConfig config) => Api.Defaults.Sampler(config);

    /// <summary>The sampler asked for, or <paramref name="defaultSampler"/>, with its settings; a setting that does not apply is a usage error.</summary>
    public SamplerSettings Read(ParseResult result, string defaultSampler, long seed, bool useEma) =>
        Resolve(result.CommandResult, result.GetValue(Sampler) ?? defaultSampler, seed, useEma);

    SamplerSettings Resolve(SymbolResult r, string sampler, long seed, bool useEma)
    {
        bool score = ScoreSamplers.IsScoreSampler(sampler);
        if (score && schedulersOnly is not null)
            throw new UsageException($"{schedulersOnly} runs with the schedulers (ddim, ddpm, dpmpp_2m, ...), not the score sampler '{sampler}'");
        if (score) return ResolveScore(r, sampler, seed, useEma);
        if (r.FirstGiven(ScoreOnly) is { } option)
            throw new UsageException($"{option} applies to the score samplers ({string.Join(", ", ScoreSamplers.Names)}), not '{sampler}'");
        if (r.Given(Eta) && sampler != "ddim") throw new UsageException($"--eta applies to the ddim sampler only, not '{sampler}'");
        if (r.Given(Karras) && DiscreteSamplers.Contains(sampler)) throw new UsageException($"--karras applies to sigma-based samplers, not '{sampler}'");
        if (r.FirstGiven(ChurnOptions) is { } churn && !ChurnSamplers.Contains(sampler))
            throw new UsageException($"{churn} applies to the euler and heun samplers, not '{sampler}'");
        var noise = r.GetValue(Noise) is "brownian" or "brownian_tree" ? NoiseSampler.BrownianTree : NoiseSampler.Gaussian;
        return new SamplerSettings(sampler, r.GetValue(Steps), r.GetValue(Eta), seed, useEma, r.Given(Karras) ? r.GetValue(Karras) : null, noise)
        {
            Churn = (r.GetValue(SChurn), r.GetValue(STmin), r.GetValue(STmax), r.GetValue(SNoise)),
        };
    }

    SamplerSettings ResolveScore(SymbolResult r, string sampler, long seed, bool useEma)
    {
        if (r.FirstGiven([Eta, Noise, Karras, .. ChurnOptions]) is { } option) throw new UsageException($"{option} does not apply to the score sampler '{sampler}'");
        bool ode = sampler == ScoreSamplers.ProbabilityFlowOde;
        if (ode && r.Given(Steps)) throw new UsageException("the ode sampler adapts its steps to --rtol and --atol; --steps does not apply");
        if (!ode && r.FirstGiven(Rtol, Atol) is not null) throw new UsageException($"--rtol and --atol apply to the ode sampler, not '{sampler}'");
        if (r.Given(Snr) && sampler is not (ScoreSamplers.PredictorCorrector or ScoreSamplers.Langevin))
            throw new UsageException($"--snr applies to the pc and langevin samplers, not '{sampler}'");
        if (r.Given(StepSize) && sampler != ScoreSamplers.AnnealedLangevin)
            throw new UsageException($"--step-size applies to the annealed_langevin sampler, not '{sampler}'");
        int? steps = r.GetValue(Steps);
        if (steps < 2) throw new UsageException($"--steps must be at least 2 for the score sampler '{sampler}', got {steps}");
        var settings = new ScoreSamplerSettings
        {
            Name = sampler, Snr = r.GetValue(Snr), CorrectorSteps = r.GetValue(CorrectorSteps), StepSize = r.GetValue(StepSize),
            Tolerances = new OdeTolerances(r.GetValue(Rtol), r.GetValue(Atol)),
        };
        try
        {
            (settings with { Steps = steps ?? 2 }).Validate();
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
        return new SamplerSettings(sampler, steps, null, seed, useEma, Score: settings);
    }
}
