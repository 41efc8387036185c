using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// Two-dimensional toy distributions, drawn from a seeded generator: the classic testbeds of
/// generative modelling (the shapes and scales of FFJORD, Grathwohl et al. 2019, and of
/// scikit-learn's make_moons / make_circles / make_swiss_roll).
/// </summary>
public static class Toy2D
{
    /// <summary>The dataset names, as accepted by <see cref="Sample"/> and the CLI's <c>--data</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["moons", "swiss_roll", "8gaussians", "checkerboard", "circles"];

    /// <summary>Draws <paramref name="n"/> points, shape [n, 2], float32 on the CPU.</summary>
    public static Tensor Sample(string name, long n, Generator generator)
    {
        if (n < 1) throw new DiffuseException($"cannot draw {n} points; the count must be at least 1");
        using var scope = NewDisposeScope();
        Tensor points = name switch
        {
            "moons" => Moons(n, generator),
            "swiss_roll" => SwissRoll(n, generator),
            "8gaussians" => EightGaussians(n, generator),
            "checkerboard" => Checkerboard(n, generator),
            "circles" => Circles(n, generator),
            _ => throw new DiffuseException($"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}"),
        };
        return points.MoveToOuterDisposeScope();
    }

    /// <summary>Throws a one-line error unless <paramref name="name"/> is a known dataset.</summary>
    public static void Validate(string name)
    {
        if (!Names.Contains(name))
            throw new DiffuseException($"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}");
    }

    static Tensor Uniform(long n, Generator g) => rand(new[] { n }, generator: g);
    static Tensor Normal(long n, long d, Generator g) => randn(new[] { n, d }, generator: g);

    // Two interleaved half circles with Gaussian noise 0.1, scaled by 2 and shifted to centre them.
    static Tensor Moons(long n, Generator g)
    {
        var upper = Uniform(n, g) < 0.5;
        var theta = Uniform(n, g) * Math.PI;
        var x = where(upper, cos(theta), 1 - cos(theta));
        var y = where(upper, sin(theta), 0.5 - sin(theta));
        var p = stack([x, y], 1) + 0.1 * Normal(n, 2, g);
        return p * 2 + tensor(new float[] { -1f, -0.2f });
    }

    // make_swiss_roll's (x, z) plane: t in [1.5 pi, 4.5 pi], noise 1, divided by 5.
    static Tensor SwissRoll(long n, Generator g)
    {
        var t = 1.5 * Math.PI * (1 + 2 * Uniform(n, g));
        var p = stack([t * cos(t), t * sin(t)], 1) + Normal(n, 2, g);
        return p / 5;
    }

    // Eight Gaussians of std 0.5 on a circle of radius 4, divided by sqrt 2.
    static Tensor EightGaussians(long n, Generator g)
    {
        var k = randint(0, 8, new[] { n }, generator: g).to(ScalarType.Float32);
        var angle = k * (Math.PI / 4);
        var centers = stack([cos(angle), sin(angle)], 1) * 4;
        return (centers + 0.5 * Normal(n, 2, g)) / Math.Sqrt(2);
    }

    // A 4x4 checkerboard of unit squares on [-4, 4]^2 (half the squares filled).
    static Tensor Checkerboard(long n, Generator g)
    {
        var x1 = Uniform(n, g) * 4 - 2;
        var x2 = Uniform(n, g) - randint(0, 2, new[] { n }, generator: g).to(ScalarType.Float32) * 2;
        x2 = x2 + floor(x1).remainder(2);
        return stack([x1, x2], 1) * 2;
    }

    // Two concentric circles (radii 1 and 0.5, noise 0.08), scaled by 3.
    static Tensor Circles(long n, Generator g)
    {
        var outer = Uniform(n, g) < 0.5;
        var theta = Uniform(n, g) * (2 * Math.PI);
        var r = where(outer, ones(n), full(n, 0.5f));
        var p = stack([r * cos(theta), r * sin(theta)], 1) + 0.08 * Normal(n, 2, g);
        return p * 3;
    }
}
