using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// The hybrid objective L_hybrid = L_simple + lambda L_vlb of Nichol &amp; Dhariwal 2021 (arXiv:2102.09672, Eq. 16, lambda =
/// 0.001) for a model with <see cref="ReverseVariance.LearnedRange"/> variances. L_vlb trains the variance only: the
/// mean's half of the output enters it through a stop-gradient (their Sec. 3.1). A single-timestep draw of L_vlb =
/// sum_t L_t is estimated as T L_t (in bits/dim, as improved-diffusion's <c>vb * num_timesteps / 1000</c>).
/// </summary>
public sealed class HybridLoss
{
    public HybridLoss(VariationalBound bound, double lambda = 0.001)
    {
        ArgumentNullException.ThrowIfNull(bound);
        if (bound.Variance != ReverseVariance.LearnedRange)
            throw new DiffuseException($"the hybrid loss trains learned_range variances; the bound uses {bound.Variance}");
        if (!(lambda >= 0 && double.IsFinite(lambda))) throw new DiffuseException($"the hybrid loss's lambda must be 0 or more, got {lambda}");
        Bound = bound;
        Lambda = lambda;
    }

    public VariationalBound Bound { get; }
    public double Lambda { get; }

    /// <summary>
    /// Per-sample terms for a model output [B, 2C, ...] at x_t = QSample(x0, t, noise): the MSE of the first C channels to the
    /// diffusion's target, and lambda T L_t with the mean's channels detached.
    /// </summary>
    public HybridLossTerms Terms(Tensor modelOutput, Tensor x0, Tensor noise, Tensor t)
    {
        using var scope = NewDisposeScope();
        var (prediction, variance) = LearnedVariance.Split(modelOutput, x0.shape[1]);
        var diffusion = Bound.Diffusion;
        var mse = (prediction - diffusion.Target(x0, noise, t)).square().reshape(x0.shape[0], -1).mean([1]);
        var xt = diffusion.QSample(x0, t, noise);
        var frozen = cat([prediction.detach(), variance], 1);
        var vb = Bound.TermBitsPerDim(frozen, x0, xt, t) * (Lambda * diffusion.Schedule.NumTrainTimesteps);
        return new HybridLossTerms((mse + vb).MoveToOuterDisposeScope(), mse.MoveToOuterDisposeScope(), vb.MoveToOuterDisposeScope());
    }
}
