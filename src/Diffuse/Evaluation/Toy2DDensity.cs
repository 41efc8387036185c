namespace Diffuse.Evaluation;

/// <summary>The closed-form densities of the 2-D datasets that have one (<see cref="Data.Toy2D"/>), for likelihood checks.</summary>
public static class Toy2DDensity
{
    /// <summary>
    /// The density of <paramref name="name"/> as a mixture, or null where it has none in closed form: 8gaussians is eight
    /// equal components of std 0.5 / sqrt 2 at 4 (cos k pi/4, sin k pi/4) / sqrt 2.
    /// </summary>
    public static GaussianMixture? Of(string name)
    {
        if (name != "8gaussians") return null;
        var means = new double[8, 2];
        for (int k = 0; k < 8; k++)
        {
            means[k, 0] = 4 * Math.Cos(k * Math.PI / 4) / Math.Sqrt(2);
            means[k, 1] = 4 * Math.Sin(k * Math.PI / 4) / Math.Sqrt(2);
        }
        return new GaussianMixture(means, Enumerable.Repeat(0.5 / Math.Sqrt(2), 8).ToArray(), Enumerable.Repeat(1.0 / 8, 8).ToArray());
    }
}
