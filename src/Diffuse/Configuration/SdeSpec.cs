
namespace Diffuse.Configuration;

/// <summary>
/// A continuous-time score model ("sde" in config.json; absent for a discrete-time model): the forward SDE it was trained on
/// by denoising score matching (Song et al. 2021, arXiv:2011.13456, Eq. 7) and how its network is read as a score.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>network input</term><description>(c_in(t) x, 999 t): the time label as score_sde's continuous VP models
/// (<c>labels = t * 999</c>), a float the sinusoidal embedding takes as it is</description></item>
/// <item><term>c_in(t)</term><description>1 for VP and sub-VP, whose marginals keep unit scale; 1 / sqrt(1 + sigma(t)^2) for VE,
/// whose x_t grows to sigma_max, so the network always sees inputs of about unit scale (the input preconditioning of
/// Karras et al. 2022, arXiv:2206.00364, Table 1, with sigma_data = 1)</description></item>
/// <item><term>network output</term><description>eps, the noise of x_t = m(t) x_0 + sigma(t) z; score = -eps / sigma(t)</description></item>
/// </list>
/// </remarks>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record SdeSpec
{
    /// <summary>The largest beta_min / beta_max: beyond it the reverse drift -beta(t) x / 2 overflows in a few steps (score_sde uses 20).</summary>
    public const double MaxBeta = 1_000;

    /// <summary>The smallest sigma_min and largest sigma_max of a VE SDE: beyond them the score -eps / sigma and the prior
    /// N(0, sigma_max^2) leave float32's useful range (score_sde uses 0.01 to 50, up to 348 for 256-pixel faces).</summary>
    public const double MinSigma = 1e-6, MaxSigma = 1e4;

    /// <summary>The network's time label is <see cref="TimeLabelScale"/> t.</summary>
    public const double TimeLabelScale = 999;

    public SdeType Type { get; init; } = SdeType.Vp;
    /// <summary>beta_min of the VP and sub-VP SDEs (score_sde's 0.1).</summary>
    public double BetaMin { get; init; } = 0.1;
    /// <summary>beta_max of the VP and sub-VP SDEs (score_sde's 20).</summary>
    public double BetaMax { get; init; } = 20;
    /// <summary>sigma_min of the VE SDE (score_sde's 0.01).</summary>
    public double SigmaMin { get; init; } = 0.01;
    /// <summary>sigma_max of the VE SDE (50, score_sde's CIFAR-10 value).</summary>
    public double SigmaMax { get; init; } = 50;
    /// <summary>The smallest training time: t ~ U(eps, 1) (score_sde's 1e-5).</summary>
    public double Eps { get; init; } = 1e-5;
    /// <summary>N, the SDE's discretisation and the default number of predictor steps.</summary>
    public int DiscreteSteps { get; init; } = 1000;

    /// <summary>The type's name in messages: VP, sub-VP, VE.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string DisplayName => Type switch { SdeType.Vp => "VP", SdeType.SubVp => "sub-VP", _ => "VE" };

    public void Validate()
    {
        if (!Enum.IsDefined(Type)) throw new DiffuseException($"unknown SDE type {(int)Type}");
        if (Type == SdeType.Ve)
        {
            if (!(SigmaMin > 0 && double.IsFinite(SigmaMax) && SigmaMax > SigmaMin))
                throw new DiffuseException($"the VE SDE needs 0 < sigma_min < sigma_max, got {SigmaMin} and {SigmaMax}");
            if (!(SigmaMin >= MinSigma && SigmaMax <= MaxSigma))
                throw DiffuseException.For(SigmaMin < MinSigma ? "sigma_min" : "sigma_max",
                    $"{(SigmaMin < MinSigma ? $"sigma_min must be at least {MinSigma}, got {SigmaMin}" : $"sigma_max must be at most {MaxSigma}, got {SigmaMax}")}: the VE process would not stay finite in float32");
        }
        else if (!(BetaMin > 0 && double.IsFinite(BetaMax) && BetaMax >= BetaMin))
            throw new DiffuseException($"the {DisplayName} SDE needs 0 < beta_min <= beta_max, got {BetaMin} and {BetaMax}");
        else if (BetaMax > MaxBeta)
            throw DiffuseException.For("beta_max", $"beta_max must be at most {MaxBeta}, got {BetaMax}: the {DisplayName} SDE's reverse drift would overflow");
        if (!(Eps > 0 && Eps < 0.1)) throw new DiffuseException($"the SDE's smallest training time eps must lie in (0, 0.1), got {Eps}");
        if (DiscreteSteps < 2) throw new DiffuseException($"the SDE needs at least 2 discretisation steps, got {DiscreteSteps}");
        Limits.AtMost(DiscreteSteps, Limits.TrainTimesteps, "sde discrete_steps");
    }

    /// <summary>c_in(t): the factor of x_t at the network's input (see the remarks).</summary>
    public double InputScale(double sigma) => Type == SdeType.Ve ? 1 / Math.Sqrt(1 + sigma * sigma) : 1.0;

    /// <summary>The one-line refusal of a discrete scheduler for the SDE model in <paramref name="directory"/>.</summary>
    public DiffuseException DiscreteSchedulerRefusal(string directory, string sampler) =>
        new($"'{directory}' is a continuous-time {DisplayName} SDE model; discrete schedulers such as '{sampler}' do not apply; use --sampler pc, ode or euler_maruyama");
}
