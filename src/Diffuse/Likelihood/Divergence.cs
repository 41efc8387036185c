using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// The divergence div f(x) = tr(df/dx) of a batched vector field f: [B, ...] to [B, ...] (each sample's output
/// depending on that sample only), by autograd: exactly, or by Hutchinson's estimator with fixed probes
/// (Grathwohl et al. 2019, arXiv:1810.01367, Eq. 7; Song et al. 2021, arXiv:2011.13456, App. D.2).
/// </summary>
public static class Divergence
{
    /// <summary>
    /// f(x) (detached) and div f(x) [B]. With <see cref="TraceEstimator.Exact"/> the probes are ignored and D
    /// vector-Jacobian products are taken; otherwise the estimate is the mean of v^T (df/dx) v over the probes
    /// (each shaped like x).
    /// </summary>
    public static (Tensor Value, Tensor Divergence) Evaluate(Func<Tensor, Tensor> f, Tensor x, TraceEstimator estimator, IReadOnlyList<Tensor> probes)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = x.detach().requires_grad_(true);
        var value = f(input);
        long batch = x.shape[0];
        var divergence = zeros(batch, x.dtype, x.device);
        if (estimator == TraceEstimator.Exact)
        {
            var flatValue = value.reshape(batch, -1);
            long dims = flatValue.shape[1];
            for (long i = 0; i < dims; i++)
            {
                var column = torch.autograd.grad([flatValue[.., i].sum()], [input], retain_graph: true)[0];
                divergence = divergence + column.reshape(batch, -1)[.., i];
            }
        }
        else
        {
            if (probes.Count == 0) throw new DiffuseException("Hutchinson's trace estimator needs at least one probe");
            foreach (var v in probes)
            {
                var vjp = torch.autograd.grad([(value * v).sum()], [input], retain_graph: true)[0];
                divergence = divergence + (vjp * v).reshape(batch, -1).sum(1);
            }
            divergence = divergence / probes.Count;
        }
        return (value.detach().MoveToOuterDisposeScope(), divergence.detach().MoveToOuterDisposeScope());
    }

    /// <summary><paramref name="count"/> probes shaped like <paramref name="like"/>: Rademacher signs or standard normals, drawn on the CPU from <paramref name="generator"/> and moved.</summary>
    public static Tensor[] DrawProbes(Tensor like, TraceEstimator estimator, int count, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (estimator == TraceEstimator.Exact) return [];
        if (count < 1) throw new DiffuseException($"Hutchinson's trace estimator needs at least one probe, got {count}");
        var probes = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var v = estimator == TraceEstimator.Gaussian
                ? randn(like.shape, like.dtype, CPU, generator: generator)
                : randint(0, 2, like.shape, like.dtype, CPU, generator: generator) * 2 - 1;
            probes[i] = v.to(like.device).MoveToOuterDisposeScope();
        }
        return probes;
    }
}
