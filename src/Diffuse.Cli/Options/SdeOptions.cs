using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.IO;

namespace Diffuse.Cli;

/// <summary><c>--sde</c> and its noise parameters: a continuous-time score model (Song et al. 2021) instead of a discrete-time one.</summary>
public sealed class SdeOptions
{
    static readonly SdeSpec Defaults = new();

    public Option<SdeType?> Type { get; } = Opt.Parsed<SdeType?>("--sde",
        "a continuous-time score model trained by denoising score matching (Song et al. 2021) instead of a discrete-time one; --timesteps sets " +
        "its N (default predictor steps); sample it with --sampler pc, ode or euler_maruyama", ParseType, helpName: "vp|subvp|ve");
    public Option<double> BetaMin { get; } = Opt.Double("--beta-min", "VP and sub-VP: the smallest noise rate", Defaults.BetaMin, new Bounds(0, MinExclusive: true, Max: SdeSpec.MaxBeta));
    public Option<double> BetaMax { get; } = Opt.Double("--beta-max", "VP and sub-VP: the largest noise rate", Defaults.BetaMax, new Bounds(0, MinExclusive: true, Max: SdeSpec.MaxBeta));
    public Option<double> SigmaMin { get; } = Opt.Double("--sigma-min", "VE: the smallest noise level", Defaults.SigmaMin, Bounds.Within(SdeSpec.MinSigma, SdeSpec.MaxSigma));
    public Option<double> SigmaMax { get; } = Opt.Double("--sigma-max", "VE: the largest noise level", Defaults.SigmaMax, Bounds.Within(SdeSpec.MinSigma, SdeSpec.MaxSigma));

    public Option[] All => [Type, BetaMin, BetaMax, SigmaMin, SigmaMax];

    public void AddTo(Command command) => command.AddOptions(All);

    static SdeType? ParseType(string name) => name.ToLowerInvariant() switch
    {
        "vp" => SdeType.Vp,
        "subvp" or "sub-vp" or "sub_vp" => SdeType.SubVp,
        "ve" => SdeType.Ve,
        _ => throw new UsageException($"--sde must be vp, subvp or ve, got '{name}'"),
    };

    /// <summary>
    /// The SDE, or null for a discrete-time model; each noise parameter only with the SDE it shapes. <paramref name="discreteOnly"/>
    /// are the options of discrete timesteps an SDE model has no use for.
    /// </summary>
    public SdeSpec? Read(SymbolResult r, int timesteps, params Option[] discreteOnly)
    {
        Option[] betas = [BetaMin, BetaMax], sigmas = [SigmaMin, SigmaMax];
        if (r.GetValue(Type) is not { } type)
        {
            if (r.FirstGiven([.. betas, .. sigmas]) is { } stray)
                throw new UsageException($"{stray} applies to continuous-time SDE models only; add --sde {(stray.StartsWith("--beta", StringComparison.Ordinal) ? "vp or subvp" : "ve")}");
            return null;
        }
        if (r.FirstGiven(type == SdeType.Ve ? betas : sigmas) is { } wrong)
            throw new UsageException($"{wrong} applies to --sde {(type == SdeType.Ve ? "vp and subvp" : "ve")}, not {Json.Name(type)}");
        if (r.FirstGiven(discreteOnly) is { } discrete) throw new UsageException($"{discrete} applies to discrete-time models, not to an --sde model");
        if (timesteps < 2) throw new UsageException($"--timesteps must be at least 2 for an --sde model, got {timesteps}");
        var spec = Defaults with
        {
            Type = type, BetaMin = r.GetValue(BetaMin), BetaMax = r.GetValue(BetaMax), SigmaMin = r.GetValue(SigmaMin), SigmaMax = r.GetValue(SigmaMax),
            DiscreteSteps = timesteps,
        };
        try
        {
            spec.Validate();
        }
        catch (DiffuseException e)
        {
            throw new UsageException(ConfigKeyFlags.Message(e));
        }
        return spec;
    }
}
