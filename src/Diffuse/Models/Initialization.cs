using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Re-draws a network's weights from an explicit generator, so that a seed fixes the initial
/// weights without touching libtorch's global generator. Linear layers get PyTorch's default
/// (Kaiming-uniform with a = sqrt 5, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias);
/// normalisation layers get ones and zeros.
/// </summary>
public static class Initialization
{
    public static void Reset(nn.Module module, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Linear linear:
                    double bound = 1.0 / Math.Sqrt(linear.weight!.shape[1]);
                    linear.weight.uniform_(-bound, bound, generator);
                    linear.bias?.uniform_(-bound, bound, generator);
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1);
                    norm.bias?.fill_(0);
                    break;
            }
        }
    }
}
