using System.Diagnostics.CodeAnalysis;
using TorchSharp;

namespace Diffuse.Process;

/// <summary>
/// Where a batch's random draws come from: one generator per sample (<see cref="SampleSeeds.Batch"/>), so that a draw of
/// shape [B, ...] is the concatenation of each sample's own draw of [1, ...] and sample k sees the same noise at any batch
/// size; or one generator that the whole batch draws from as one tensor (<see cref="Shared"/>, diffusers' way, which
/// the scheduler reference-value tests use). Every stochastic step takes one of these, so every sampler draws per sample
/// without knowing it. A <see cref="torch.Generator"/> converts implicitly to a shared one.
/// </summary>
/// <remarks>
/// Draws are made on the CPU and then moved, so a seed gives the same noise on every device (as <see cref="Noise.RandnLike"/>).
/// Per sample costs one small draw per sample instead of one draw per batch.
/// </remarks>
public sealed class SampleGenerators : IDisposable
{
    private readonly torch.Generator[] _generators;
    private readonly bool _perSample;

    private SampleGenerators(torch.Generator[] generators, bool perSample) => (_generators, _perSample) = (generators, perSample);

    /// <summary>One generator that every draw takes whole, for any batch size; it stays the caller's (not disposed here).</summary>
    public static SampleGenerators Shared(torch.Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new SampleGenerators([generator], perSample: false);
    }

    /// <summary>The generators of samples [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of the run of <paramref name="seeds"/>, owned (disposed with this).</summary>
    public static SampleGenerators PerSample(SampleSeeds seeds, long first, long count)
    {
        if (count < 1 || count > Array.MaxLength) throw new DiffuseException($"a batch needs between 1 and {Array.MaxLength} samples, got {count}");
        var generators = new torch.Generator[count];
        for (long k = 0; k < count; k++) generators[k] = new torch.Generator(seeds.For(first + k));
        return new SampleGenerators(generators, perSample: true);
    }

    /// <summary>A generator as a shared source; null stays null (a deterministic step needs none).</summary>
    [return: NotNullIfNotNull(nameof(generator))]
    public static implicit operator SampleGenerators?(torch.Generator? generator) => generator is null ? null : Shared(generator);

    /// <summary>The number of samples of a per-sample source; null for a shared one, which takes any batch.</summary>
    public int? Count => _perSample ? _generators.Length : null;

    /// <summary>
    /// Each generator with the shape of its part of a draw of <paramref name="shape"/> [B, ...]: the whole shape for a
    /// shared source, [1, ...] for each of the B generators of a per-sample one. A draw is the parts' draws joined along
    /// dimension 0 in this order.
    /// </summary>
    public IReadOnlyList<(torch.Generator Generator, long[] Shape)> Parts(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!_perSample) return [(_generators[0], (long[])shape.Clone())];
        if (shape.Length == 0 || shape[0] != _generators.Length)
            throw new DiffuseException($"a draw of shape [{string.Join(", ", shape)}] does not fit the {_generators.Length} samples' generators (one per row)");
        long[] row = [1, .. shape[1..]];
        return _generators.Select(g => (g, (long[])row.Clone())).ToArray();
    }

    /// <summary>Standard normal noise of <paramref name="shape"/> [B, ...], each part from its own generator (<see cref="Parts"/>).</summary>
    /// <param name="device">Where the noise goes (drawn on the CPU, then moved); null: the default device.</param>
    public torch.Tensor Randn(long[] shape, torch.ScalarType dtype = torch.ScalarType.Float32, torch.Device? device = null)
    {
        device ??= torch.get_default_device();
        using var scope = torch.NewDisposeScope();
        var parts = Parts(shape).Select(p => torch.randn(p.Shape, dtype, torch.CPU, generator: p.Generator)).ToArray();
        var cpu = parts.Length == 1 ? parts[0] : torch.cat(parts, 0);
        return (device.type == DeviceType.CPU ? cpu : cpu.to(device)).MoveToOuterDisposeScope();
    }

    /// <summary>Standard normal noise with <paramref name="like"/>'s shape, dtype and device (<see cref="Randn"/>).</summary>
    public torch.Tensor RandnLike(torch.Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Randn(like.shape, like.dtype, like.device);
    }

    /// <summary>Disposes the generators of a per-sample source; a shared one's generator is the caller's.</summary>
    public void Dispose()
    {
        if (!_perSample) return;
        foreach (var g in _generators) g.Dispose();
    }
}
