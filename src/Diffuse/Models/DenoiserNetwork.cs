using Diffuse.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// The contract of every denoising network: one <see cref="Forward(DenoiserInput)"/> from x_t, t and the condition to the
/// output of the model's prediction type (C channels, or 2C with a learned variance). Networks are built from their config
/// by <see cref="NetworkTypes"/>; training, sampling, guidance and editing see only this class.
/// </summary>
public abstract class DenoiserNetwork : nn.Module<Tensor, Tensor, Tensor>
{
    protected DenoiserNetwork(string name) : base(name) { }

    /// <summary>The config the network was built from (its "network" section).</summary>
    public abstract NetworkConfig NetworkConfig { get; }

    /// <summary>The output for x_t, t and the condition; an empty condition slot means its null input.</summary>
    public abstract Tensor Forward(DenoiserInput input);

    /// <summary>The unconditional output: <see cref="Forward(DenoiserInput)"/> with no condition.</summary>
    public override Tensor forward(Tensor x, Tensor t) => Forward(new DenoiserInput(x, t));

    /// <summary>Re-draws every weight from <paramref name="generator"/>, so that one seed fixes a run's initial network.</summary>
    public virtual void ResetParameters(Generator generator) => Initialization.Reset(this, generator);

    /// <summary>Makes any dropout draw its masks from <paramref name="generator"/> (for runs that never touch libtorch's default generator).</summary>
    public virtual void SetDropoutGenerator(Generator? generator)
    {
        foreach (var (_, module) in named_modules())
            if (module is GeneratorDropout dropout) dropout.Generator = generator;
    }

    /// <summary>The number of trainable parameters.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>A one-line error for a condition slot this network does not take.</summary>
    protected DiffuseException Refuses(string what) =>
        new($"{what} were given, but network type '{NetworkConfig.Type}' does not take them");
}
