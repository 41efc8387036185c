using Diffuse.Models;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

/// <summary>Short forms of the one network call for tests: each fills one slot of the <see cref="Condition"/>.</summary>
static class NetworkCalls
{
    public static Tensor Forward(this DenoiserNetwork network, Tensor x, Tensor t, Tensor? classLabels) =>
        network.Forward(new DenoiserInput(x, t, new Condition { ClassLabels = classLabels }));

    /// <summary>x already holds x_t and the low-resolution image side by side (a super-resolution U-Net's input).</summary>
    public static Tensor Forward(this DenoiserNetwork network, Tensor x, Tensor t, Tensor? classLabels, Tensor? noiseLevels) =>
        network.Forward(new DenoiserInput(x, t, new Condition { ClassLabels = classLabels, NoiseLevels = noiseLevels }));

    public static Tensor ForwardText(this DenoiserNetwork network, Tensor x, Tensor t, Tensor? tokens) =>
        network.Forward(new DenoiserInput(x, t, new Condition { Tokens = tokens }));
}
