package loadgen

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

// FloorTTL is how long the floor handler keeps a caller's value.
const FloorTTL = 60 * time.Second

// floorBusy is the floor handler's answer when Redis fails, the gateway's
// busy screen, so that the load generator counts it as shed.
const floorBusy = "END Service busy. Please try again in a few minutes."

// FloorHandler is the least a USSD gateway can do per request, for the
// floor measurement: gin on POST /ussd/africastalking, parse the form, one
// Redis GET and one SET of the caller's key (hash-tagged by phoneNumber,
// value the text, ttl), and answer "CON ok". Nothing else.
func FloorHandler(rdb redis.UniversalClient, ttl time.Duration) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST(USSDPath, func(c *gin.Context) {
		phone, text := c.PostForm("phoneNumber"), c.PostForm("text")
		if phone == "" {
			c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("phoneNumber required\n"))
			return
		}
		ctx := c.Request.Context()
		key := "floor:{" + phone + "}"
		if err := rdb.Get(ctx, key).Err(); err != nil && err != redis.Nil {
			c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(floorBusy))
			return
		}
		if err := rdb.Set(ctx, key, text, ttl).Err(); err != nil {
			c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(floorBusy))
			return
		}
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("CON ok"))
	})
	return r
}
