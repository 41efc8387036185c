using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>
/// A forward SDE dx = f(x, t) dt + g(t) dw on t in [0, 1] with a linear drift f(x, t) = <see cref="DriftScale"/>(t) x
/// and Gaussian perturbation kernels p_0t(x_t | x_0) = N(<see cref="MeanScale"/>(t) x_0, <see cref="MarginalStd"/>(t)^2 I)
/// (Song et al. 2021, arXiv:2011.13456, Eq. 5 and App. B). Immutable.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>f(x, t), g(t)</term><description><see cref="Drift"/>, <see cref="Diffusion"/> (Eq. 5)</description></item>
/// <item><term>reverse SDE</term><description>dx = [f - g^2 score] dt + g dw-bar (Eq. 6), <see cref="ReverseDrift"/></description></item>
/// <item><term>probability-flow ODE</term><description>dx = [f - g^2 score / 2] dt (Eq. 13), <see cref="ReverseDrift"/> with probabilityFlow</description></item>
/// <item><term>N</term><description><see cref="DiscreteSteps"/>, the steps of the discretisation that predictors and correctors use (App. E)</description></item>
/// </list>
/// </remarks>
public abstract class Sde
{
    protected Sde(int discreteSteps)
    {
        if (discreteSteps < 2) throw new DiffuseException($"an SDE needs at least 2 discretisation steps, got {discreteSteps}");
        DiscreteSteps = discreteSteps;
    }

    /// <summary>The end time T; every SDE here runs on [0, 1].</summary>
    public double T => 1.0;

    /// <summary>N, the number of steps of the SDE's own discretisation (DDPM / SMLD chains).</summary>
    public int DiscreteSteps { get; }

    /// <summary>The linear drift's coefficient: f(x, t) = DriftScale(t) x.</summary>
    public abstract double DriftScale(double t);

    /// <summary>g(t).</summary>
    public abstract double Diffusion(double t);

    /// <summary>m(t): the mean of p_0t(x_t | x_0) is m(t) x_0.</summary>
    public abstract double MeanScale(double t);

    /// <summary>sigma(t): the std of p_0t(x_t | x_0).</summary>
    public abstract double MarginalStd(double t);

    /// <summary>The std of the prior p_T = N(0, PriorStd^2 I).</summary>
    public abstract double PriorStd { get; }

    /// <summary>f_i and G_i of the step that leaves time t (Song et al. 2021, App. E).</summary>
    public abstract SdeDiscretization Discretize(double t);

    /// <summary>
    /// The same SDE (same drift, diffusion and marginals) with an N-step discretisation of <paramref name="steps"/> steps:
    /// what a predictor-corrector sampler runs at a chosen step count.
    /// </summary>
    public abstract Sde WithDiscreteSteps(int steps);

    /// <summary>
    /// The factor alpha_i of the Langevin corrector's step size (Song et al. 2021, Algorithm 5; 1 - beta_i
    /// for the VP family, 1 for VE, as score_sde's <c>LangevinCorrector</c>).
    /// </summary>
    public virtual double LangevinScale(double t) => 1.0;

    /// <summary>The index i = floor(t (N - 1) / T) of the discrete step at time t, as score_sde's discretisations.</summary>
    protected int StepIndex(double t) => (int)Math.Clamp(Math.Floor(t * (DiscreteSteps - 1) / T), 0, DiscreteSteps - 1);

    /// <summary>f(x, t).</summary>
    public Tensor Drift(Tensor x, double t) => x * DriftScale(t);

    /// <summary>
    /// The drift of the reverse SDE, f - g^2 score (Song et al. 2021, Eq. 6), or of the probability-flow ODE,
    /// f - g^2 score / 2 (Eq. 13), at x, t.
    /// </summary>
    public Tensor ReverseDrift(ScoreFunction score, Tensor x, double t, bool probabilityFlow)
    {
        var g = Diffusion(t);
        using var s = score(x, t);
        return x * DriftScale(t) - s * (g * g * (probabilityFlow ? 0.5 : 1.0));
    }

    /// <summary>Draws from the prior N(0, PriorStd^2 I) (on the CPU, then moved).</summary>
    public Tensor SamplePrior(long[] shape, SampleGenerators generators, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(generators);
        var z = generators.Randn(shape, dtype, CPU);
        if (PriorStd != 1.0) z.mul_(PriorStd);
        return device is null || device.type == DeviceType.CPU ? z : z.to(device);
    }

    /// <summary>log p_T(z) of each sample of z [B, ...] under the prior N(0, PriorStd^2 I), in nats, [B].</summary>
    public Tensor PriorLogDensity(Tensor z)
    {
        using var scope = NewDisposeScope();
        var flat = z.reshape(z.shape[0], -1);
        long d = flat.shape[1];
        var variance = PriorStd * PriorStd;
        return (flat.square().sum(1) / (-2 * variance) - 0.5 * d * Math.Log(2 * Math.PI * variance)).MoveToOuterDisposeScope();
    }
}
