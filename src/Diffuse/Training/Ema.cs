using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging; Ho et al. 2020 sample
/// from it). The decay warms up as <c>min(decay, (1 + n) / (10 + n))</c> after n updates, so that
/// the average does not stay stuck near the random initialisation in short runs.
/// </summary>
public sealed class Ema
{
    private readonly (Tensor Shadow, Tensor Source)[] pairs;
    private long updates;

    /// <param name="source">The model being trained.</param>
    /// <param name="shadow">A model of the same architecture that holds the average; its weights are overwritten with the source's.</param>
    public Ema(nn.Module source, nn.Module shadow, double decay)
    {
        if (!(decay >= 0 && decay < 1)) throw new DiffuseException($"EMA decay must be in [0, 1), got {decay}");
        Decay = decay;
        var src = source.state_dict();
        var dst = shadow.state_dict();
        if (src.Count != dst.Count || src.Keys.Any(k => !dst.ContainsKey(k)))
            throw new DiffuseException("EMA shadow model does not have the same weights as the trained model");
        pairs = src.Keys.Select(k => (dst[k], src[k])).ToArray();
        using var _ = no_grad();
        foreach (var (s, p) in pairs) s.copy_(p);
        Shadow = shadow;
        shadow.eval();
    }

    public double Decay { get; }
    public nn.Module Shadow { get; }

    /// <summary>Updates made so far (restored on resume: the warmed-up decay depends on it).</summary>
    public long Updates
    {
        get => updates;
        set => updates = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "EMA update count must be at least 0");
    }

    /// <summary>The decay the next update will use.</summary>
    public double CurrentDecay => Math.Min(Decay, (1.0 + updates) / (10.0 + updates));

    public void Update()
    {
        double d = CurrentDecay;
        using var scope = torch.NewDisposeScope(); // the in-place ops return handles of their own
        using var _ = no_grad();
        foreach (var (s, p) in pairs)
        {
            if (s.is_floating_point()) s.mul_(d).add_(p, alpha: 1 - d);
            else s.copy_(p);
        }
        updates++;
    }
}
